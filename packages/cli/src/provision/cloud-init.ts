/**
 * The cloud-init user-data of `flotilla provision` (seed 002, zero-touch provisioning): a
 * `#cloud-config` document that, on the first boot of a Debian or Ubuntu machine, installs
 * Node.js 24 from the official nodejs.org tarball (checksum verified), installs the agent from
 * npm, writes its configuration and a systemd unit, and starts it; the agent then enrolls with
 * the token and keeps its own credential.
 */

/** Where things go on the device. */
export const DevicePaths = {
  /** The agent's configuration, a systemd EnvironmentFile (0600, root): hub, enrollment token, device id. */
  config: '/etc/flotilla/agent.env',
  /** The hub's CA certificate, when the hub has one. */
  ca: '/etc/flotilla/ca.pem',
  /** Runs once from runcmd; kept so that it can be run again by hand. */
  script: '/etc/flotilla/install-agent.sh',
  unit: '/etc/systemd/system/flotilla-agent.service',
  /** The agent's state (identity and credential): 0700, owned by the agent's user. */
  state: '/var/lib/flotilla',
  /** Node.js from the official tarball, as the nodejs.org "binary archive" instructions place it. */
  nodeDir: '/usr/local/lib/nodejs',
  bin: '/usr/local/bin/flotilla-agent',
} as const;

export const AGENT_USER = 'flotilla';
export const AGENT_SERVICE = 'flotilla-agent.service';

export type IdFrom = 'hostname' | 'machine-id';
export const ID_SOURCES: readonly IdFrom[] = ['hostname', 'machine-id'];

export interface UserDataInit {
  /** The hub the agent connects to (http(s):// or ws(s)://). */
  hubUrl: string;
  /** The enrollment token (`fle_…`). */
  enrollmentToken: string;
  /** Said in a comment at the top, so that whoever holds the file knows what it grants. */
  summary: string;
  /** The hub's CA certificate (PEM) when it serves TLS with its own CA. */
  ca?: string | undefined;
  /** Whether the agent takes `--ca FILE`; without it the CA reaches it through NODE_EXTRA_CA_CERTS only. */
  agentTakesCa: boolean;
  idFrom: IdFrom;
  /** What `npm install -g` installs, e.g. `@flotilla/agent@0.1.0`. */
  agentPackage: string;
  /** `24` (the latest 24.x) or an exact version such as `24.11.1`. */
  nodeVersion: string;
}

/**
 * The agent's command line in the unit, after the executable. `${NAME}` is replaced by systemd
 * from the EnvironmentFile, each as one word. The enrollment token is not on it: the agent reads
 * FLOTILLA_ENROLLMENT_TOKEN from the environment (the same file), so it never shows in the
 * process list or `systemctl status`.
 */
export function agentArgs(init: Pick<UserDataInit, 'ca' | 'agentTakesCa'>): string[] {
  return [
    '--hub',
    '${FLOTILLA_HUB}',
    '--id',
    '${FLOTILLA_DEVICE_ID}',
    '--state',
    DevicePaths.state,
    ...(init.ca !== undefined && init.agentTakesCa ? ['--ca', DevicePaths.ca] : []),
  ];
}

/** Characters a value may hold to be written unquoted in an EnvironmentFile and a shell script. */
const PLAIN_VALUE = /^[A-Za-z0-9._~:/?#[\]@!&()*+,;=%-]+$/;

export function isPlainValue(value: string): boolean {
  return PLAIN_VALUE.test(value);
}

/** What an npm package spec may hold here (name@version, a tarball URL): no shell metacharacters. */
const PACKAGE_SPEC = /^[A-Za-z0-9._~:/@+=%^-]+$/;

export function isPackageSpec(value: string): boolean {
  return PACKAGE_SPEC.test(value);
}

function envFile(init: UserDataInit): string {
  for (const [name, value] of [
    ['hub URL', init.hubUrl],
    ['enrollment token', init.enrollmentToken],
  ] as const) {
    if (!isPlainValue(value)) throw new TypeError(`the ${name} holds characters a configuration file cannot take`);
  }
  return [
    '# The Flotilla agent configuration (a systemd EnvironmentFile), written by flotilla provision.',
    `# ${DevicePaths.script} appends FLOTILLA_DEVICE_ID on first boot.`,
    `FLOTILLA_HUB=${init.hubUrl}`,
    `FLOTILLA_ENROLLMENT_TOKEN=${init.enrollmentToken}`,
    '',
  ].join('\n');
}

function unit(init: UserDataInit): string {
  return [
    '[Unit]',
    'Description=Flotilla agent',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    `User=${AGENT_USER}`,
    `Group=${AGENT_USER}`,
    `EnvironmentFile=${DevicePaths.config}`,
    'Environment=PATH=/usr/local/bin:/usr/bin:/bin',
    ...(init.ca !== undefined ? [`Environment=NODE_EXTRA_CA_CERTS=${DevicePaths.ca}`] : []),
    `ExecStart=${DevicePaths.bin} ${agentArgs(init).join(' ')}`,
    // systemd creates /var/lib/flotilla owned by User= with this mode before each start.
    'StateDirectory=flotilla',
    'StateDirectoryMode=0700',
    'Restart=always',
    'RestartSec=5',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const NODE_VERSION = /^24(\.\d+\.\d+)?$/;

export function isNodeVersion(text: string): boolean {
  return NODE_VERSION.test(text);
}

/**
 * The first-boot script. Node.js comes from nodejs.org, not the distribution: Debian 12 and
 * Ubuntu 24.04 ship Node 18. The tarball is checked against the release's SHASUMS256.txt
 * (over HTTPS from the same site: it catches a corrupt download, not a compromised site).
 */
function script(init: UserDataInit): string {
  if (!isNodeVersion(init.nodeVersion)) throw new TypeError(`Node.js version ${init.nodeVersion} is not 24 or 24.x.y`);
  if (!isPackageSpec(init.agentPackage)) throw new TypeError('the agent package holds characters a script cannot take');
  const release = init.nodeVersion === '24' ? 'latest-v24.x' : `v${init.nodeVersion}`;
  const id =
    init.idFrom === 'hostname' ? 'device_id=$(hostname -s)' : "device_id=$(tr -d '[:space:]' < /etc/machine-id)";
  return `#!/bin/sh
# Installs Node.js 24 and the Flotilla agent, then starts it. Written by flotilla provision;
# cloud-init runs it once (runcmd); running it again is harmless.
set -eu
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
NODE_RELEASE=${release}
AGENT_PACKAGE='${init.agentPackage}'
CONFIG=${DevicePaths.config}

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  armv7l) arch=armv7l ;;
  *) echo "flotilla: no Node.js build for $(uname -m)" >&2; exit 1 ;;
esac

if [ "$(/usr/local/bin/node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)" != 24 ]; then
  base="https://nodejs.org/dist/$NODE_RELEASE"
  tmp=$(mktemp -d)
  curl -fsSL --retry 5 "$base/SHASUMS256.txt" -o "$tmp/SHASUMS256.txt"
  file=$(awk -v want="linux-$arch.tar.xz" 'substr($2, length($2) - length(want) + 1) == want { print $2 }' "$tmp/SHASUMS256.txt")
  if [ -z "$file" ]; then echo "flotilla: Node.js $NODE_RELEASE has no build for linux-$arch" >&2; exit 1; fi
  curl -fsSL --retry 5 "$base/$file" -o "$tmp/$file"
  (cd "$tmp" && grep " $file\\$" SHASUMS256.txt | sha256sum -c --quiet -)
  mkdir -p ${DevicePaths.nodeDir}
  tar -xJf "$tmp/$file" -C ${DevicePaths.nodeDir} --no-same-owner
  ln -sfn "${DevicePaths.nodeDir}/\${file%.tar.xz}" ${DevicePaths.nodeDir}/current
  for tool in node npm npx; do ln -sfn ${DevicePaths.nodeDir}/current/bin/$tool /usr/local/bin/$tool; done
  rm -rf "$tmp"
fi

npm install --global --prefix /usr/local --omit=dev --no-audit --no-fund --no-update-notifier "$AGENT_PACKAGE"

id -u ${AGENT_USER} >/dev/null 2>&1 ||
  useradd --system --home-dir ${DevicePaths.state} --no-create-home --shell /usr/sbin/nologin ${AGENT_USER}

if ! grep -q '^FLOTILLA_DEVICE_ID=' "$CONFIG"; then
  ${id}
  if ! printf '%s' "$device_id" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$'; then
    echo "flotilla: '$device_id' (from ${init.idFrom}) is not a valid device id" >&2
    exit 1
  fi
  echo "FLOTILLA_DEVICE_ID=$device_id" >> "$CONFIG"
fi

systemctl daemon-reload
systemctl enable --now ${AGENT_SERVICE}
`;
}

function yamlBlock(content: string, indent: string): string {
  if (/^\s/.test(content)) throw new TypeError('a block starting with white space needs an indentation indicator');
  return content
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line === '' ? '' : `${indent}${line}`))
    .join('\n');
}

function writeFile(path: string, permissions: string, content: string): string {
  return [
    `  - path: ${path}`,
    '    owner: root:root',
    `    permissions: '${permissions}'`,
    '    content: |',
    yamlBlock(content, '      '),
  ].join('\n');
}

/** The whole user-data document. It holds the enrollment token: whoever has it can enroll devices. */
export function renderUserData(init: UserDataInit): string {
  const files = [
    writeFile(DevicePaths.config, '0600', envFile(init)),
    ...(init.ca !== undefined ? [writeFile(DevicePaths.ca, '0644', init.ca)] : []),
    writeFile(DevicePaths.unit, '0644', unit(init)),
    writeFile(DevicePaths.script, '0700', script(init)),
  ];
  const summary = init.summary.replace(/[\r\n]+/g, ' ');
  return [
    '#cloud-config',
    `# ${summary}`,
    '# It holds an enrollment token: keep it as secret as a password until the token is used up or expired.',
    'package_update: true',
    'packages:',
    '  - ca-certificates',
    '  - curl',
    '  - xz-utils',
    'write_files:',
    ...files,
    'runcmd:',
    `  - [sh, ${DevicePaths.script}]`,
    '',
  ].join('\n');
}
