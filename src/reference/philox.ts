// The CPU Philox4x32-10 is production code (the data pipeline draws with it), so it lives in
// src/spec/philox.ts; this file keeps the oracle for shaders/philox.wgsl under the shader's name.
export { mulHiU32, philox4x32, unitFloat, openUnitFloat, type Counter, type Key } from '../spec/philox';
