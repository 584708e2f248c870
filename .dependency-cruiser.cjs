/**
 * The import rules of src/ (run by `npm test`): no circle between files, and every import downward along
 * LAYERS — a module may import from its own folder and from the layers below its own, never from one above.
 * ARCHITECTURE.md says why the layers are in this order.
 */
const LAYERS = [
  ['main', '^src/main\\.ts$'],
  ['replay', '^src/replay/'],
  ['tap', '^src/tap/'],
  ['app', '^src/app\\.ts$'],
  ['eventbridge', '^src/eventbridge/'],
  ['firehose', '^src/firehose/'],
  ['server', '^src/server/'],
  ['pipeline', '^src/pipeline/'],
  ['export', '^src/export/'],
  ['config', '^src/config/'],
  ['decode', '^src/decode/'],
  ['enrich', '^src/enrich/'],
  ['state', '^src/state/'],
  ['otlp', '^src/otlp/'],
  ['telemetry', '^src/telemetry/'],
  ['memory', '^src/memory/'],
  ['leaf', '^src/(errors|json-object|version)\\.ts$'],
];

const upward = LAYERS.flatMap(([name, path], i) =>
  i === 0
    ? []
    : [
        {
          name: `no-upward-import-from-${name}`,
          comment: `${name} imports only from its own folder and the layers below it (${LAYERS.slice(i + 1)
            .map(([n]) => n)
            .join(', ')})`,
          severity: 'error',
          from: { path },
          to: { path: LAYERS.slice(0, i).map(([, p]) => p) },
        },
      ],
);

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'files import each other, directly or through others', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'in-a-layer',
      comment: 'every file of src/ belongs to a layer of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(([, p]) => p) },
      to: {},
    },
    ...upward,
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser: swc parses the sources, and sees type-only imports too.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test|bench|examples)/' },
  },
};
