// Where "Connect to Collector…" keeps `rigwatch.collectors`. Pure (no vscode) so it is unit-tested.
//
// The setting is window-scoped and written with ConfigurationTarget.Global, so VS Code stores it in the
// user settings, except in a remote window whose remote settings already hold a list (VS Code then
// updates that one). A machine-overridable scope would send every write of a remote window to the
// remote "Machine" settings, and code-server (whose extension host is always "remote", its remote
// name being its own host:port) would then write collectors where the user never looks, beside and
// shadowing the User settings that hold their `rigwatch.localCollector.config`.

/** Which settings file a user-level write lands in. */
export type SettingsLocation = 'user' | 'remote';

/** The parts of `WorkspaceConfiguration.inspect()` this needs (VS Code fills the remote/local split in remote windows). */
export interface InspectedValue {
  globalValue?: unknown;
  globalRemoteValue?: unknown;
}

/** Where a Global write of `rigwatch.collectors` goes: `remote` only in a remote window that already keeps the list there. */
export function collectorsLocation(remoteName: string | undefined, inspected: InspectedValue | undefined): SettingsLocation {
  return remoteName && inspected?.globalRemoteValue !== undefined ? 'remote' : 'user';
}

/** A short phrase for logs and messages: `your user settings`, `the remote's settings (ssh-remote)`. */
export function describeLocation(where: SettingsLocation, remoteName: string | undefined): string {
  return where === 'user' ? 'your user settings' : `the remote's settings (${remoteName ?? 'remote'})`;
}
