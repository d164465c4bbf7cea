// Mutation testing (`npm run test:mutation`): StrykerJS changes the domain core one mutation at a
// time and reruns the tests of the core (unit, and the component tests of the submit path); a
// mutant no test notices survives. The command runner is used because Stryker's mocha runner
// does not support mocha 12.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['core/**/*.ts', '!core/ports/**'],
  testRunner: 'command',
  commandRunner: {
    command:
      'node --import tsx node_modules/mocha/bin/mocha.js --reporter dot --bail tests/unit/ids-lifecycle.test.ts tests/unit/traffic-split.test.ts tests/unit/idempotency.test.ts tests/unit/submitter.test.ts tests/component/submit.test.ts tests/component/guards.test.ts tests/component/evaluations.test.ts',
  },
  coverageAnalysis: 'off',
  concurrency: 2,
  timeoutMS: 60000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['dist', 'bench-results', 'reports', '.git', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
