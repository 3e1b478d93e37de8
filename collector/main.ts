// Placeholder; the CLI is written next.
export {};
