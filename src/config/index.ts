// The run configuration: schema (types, limits, validation, defaults), presets, JSON / URL serialization.
export * from './schema';
export * from './presets';
export * from './serialize';
export * from './json-input';
