/**
 * Who may do what: the one table every route and transport checks, and from which
 * docs/security.md is generated (a test fails when the two drift). A route names the permission
 * it needs in its Fastify route config (`config: { permission: 'devices:read' }`), or
 * `config: { public: true }` for the few that need no caller (health, readiness, login).
 *
 * Roles (seed 001): admin does everything; engineer reads, deploys, configures and runs
 * pipelines; operator reads, sends commands, teleoperates and acknowledges alerts; viewer reads.
 */
export const ROLES = ['admin', 'engineer', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'devices:read': 'list and read devices, their telemetry, logs and status',
  'devices:write': 'rename, relabel and decommission devices',
  'events:read': 'read the event log and audit trail',
  'commands:send': 'send commands to devices, including e-stop',
  'teleop:operate': 'start and stop teleoperation sessions',
  'alerts:read': 'read alerts and alert rules',
  'alerts:ack': 'acknowledge and resolve alerts',
  'alerts:configure': 'create, change and delete alert rules',
  'deploy:read': 'read artifacts, resources and rollouts',
  'deploy:write': 'upload artifacts, apply resources, start and control rollouts',
  'pipelines:read': 'read pipelines and runs',
  'pipelines:run': 'define pipelines and start, pause, resume or cancel runs',
  'reports:read': 'read reports',
  'reports:write': 'generate reports',
  'reports:delete': 'delete reports',
  'enrollment:manage': 'create, list and revoke enrollment tokens and device credentials',
  'users:manage': 'create, change and delete users',
  'tokens:manage': "create, list and revoke any user's API tokens",
  'tokens:own': 'create, list and revoke your own API tokens',
  'metrics:read': 'scrape Prometheus metrics',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const READ: Permission[] = [
  'devices:read',
  'events:read',
  'alerts:read',
  'deploy:read',
  'pipelines:read',
  'reports:read',
  'tokens:own',
  'metrics:read',
];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(Object.keys(PERMISSIONS) as Permission[]),
  engineer: new Set<Permission>([
    ...READ,
    'devices:write',
    'alerts:configure',
    'deploy:write',
    'pipelines:run',
    'reports:write',
  ]),
  operator: new Set<Permission>([...READ, 'commands:send', 'teleop:operate', 'alerts:ack', 'reports:write']),
  viewer: new Set<Permission>(READ),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** The permissions of a role, in the table's order; none for a name that is not a role. */
export function permissionsOf(role: string): Permission[] {
  if (!isRole(role)) return [];
  return (Object.keys(PERMISSIONS) as Permission[]).filter((permission) => ROLE_PERMISSIONS[role].has(permission));
}
