export * from './version.ts';
export * from './jsonrpc.ts';
export * from './goal.ts';
export * from './events.ts';
export * from './methods.ts';
export * from './discovery.ts';
export * from './chat.ts';
export * from './research.ts';
