export * from './spec.js';
export * from './upcast.js';
export * from './catalogue.js';
export * from './compat.js';
export * from './lock.js';
