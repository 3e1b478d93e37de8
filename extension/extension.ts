// Placeholder until the extension lands.
export function activate(): void {}
/** Called by VS Code on shutdown. */
export function deactivate(): void {}
