import { z } from 'zod';

/** An http(s) URL; one written without its scheme (`otel-collector:4318`) is told what to add. */
export const httpUrl = () =>
  z.url({
    protocol: /^https?$/,
    error: (issue) =>
      typeof issue.input === 'string' && !issue.input.includes('://')
        ? 'expected a URL with its scheme: add http:// or https:// (for example http://otel-collector:4318)'
        : 'expected an http:// or https:// URL',
  });

export const positiveInt = z.coerce.number().int().positive();
export const nonNegativeInt = z.coerce.number().int().nonnegative();
export const stringMap = z.record(z.string().min(1), z.string());
