/**
 * Upcasters turn a command written for one major version of a capability into the next one's
 * form, so a client that speaks v1 can command a device that declares only v2. Chains compose
 * (v1 → v2 → v3). A command with no upcaster has no equivalent in the newer version.
 */
export interface Upcaster {
  from: string;
  to: string;
  /** By v1 command name: the v2 command and arguments. Arguments arrive already valid for `from`. */
  commands: Readonly<Record<string, (args: Record<string, unknown>) => CommandForm>>;
}

export interface CommandForm {
  command: string;
  args: Record<string, unknown>;
}
