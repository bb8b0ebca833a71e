// Data sets: synthetic generators (from the run's seed), .npy / .csv loading, validation, probe sets.
export * from './dataset';
export * from './synthetic';
export * from './bitflip';
export * from './npy';
export * from './csv';
export { PhiloxStream } from './rng';
export * from './user-data';
