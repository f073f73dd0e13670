import { describe, expect, it } from '@jest/globals';
import { inferenceLatencies } from './metrics.js';

describe('inferenceLatencies', () => {
  it("reads the first-inference latency models.inference reports (data.models[].latency.firstMs), per model; a model without one is left out", () => {
    const data = {
      simulated: false,
      models: [
        { path: 'a.tflite', latency: { loadMs: 3, firstMs: 12.5, steadyMs: 11, steadyRunsMs: [11, 11] } },
        { path: 'b.tflite', crashed: { stage: 'loading' } },
        { path: 'c.tflite', latency: { steadyRunsMs: [] } },
      ],
    };
    expect(inferenceLatencies(data)).toEqual([{ model: 'a.tflite', ms: 12.5 }]);
  });
});
