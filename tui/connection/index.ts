export * from './repo.ts';
export * from './daemon.ts';
