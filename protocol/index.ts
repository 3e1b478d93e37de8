// The wire protocol: message types, guards and series naming. Imports nothing from Node, DOM or vscode.
export * from './messages';
export * from './details';
export * from './series';
export * from './guards';
export * from './bridge';
export * from './compact';
export * from './keys';
