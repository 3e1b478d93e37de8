// Placeholder until the dashboard lands.
export {};
