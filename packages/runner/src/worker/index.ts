export * from './errors.ts';
export * from './protocol.ts';
export * from './python.ts';
export * from './worker.ts';
export * from './supervisor.ts';
