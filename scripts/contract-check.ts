/**
 * The contract's compatibility check (`npm run contract:check`, part of `npm test`):
 * spec/openapi.yaml against spec/released/openapi.yaml, the contract as last released, with
 * openapi-diff. A breaking change fails unless the version's major part grew; any change needs a
 * version above the released one and its entry in CHANGELOG.md.
 *
 * One kind of difference openapi-diff counts as breaking is tolerated: an answer gaining a field
 * (`response.body.scope.add`, because our answer schemas say `additionalProperties: false`). The
 * contract tells clients to ignore fields they do not know, so answers may grow in a minor version.
 *
 * Beware: openapi-diff (json-schema-diff underneath) went from 2 s to over 5 minutes of CPU when
 * the record's open `metadata` object was given nine typed properties; it is described in prose
 * instead. A change that makes this check slow is a change to look at again.
 */
import { readFileSync } from 'node:fs';
import openapiDiff from 'openapi-diff';
import { parse } from 'yaml';

const TOLERATED = new Set(['response.body.scope.add']);

export interface ContractChanges {
  /** Each breaking difference, as `code at location`. */
  breaking: string[];
  /** How many differences there are in all (breaking, tolerated, additions). */
  total: number;
}

export async function contractChanges(released: string, current: string): Promise<ContractChanges> {
  const r = await openapiDiff.diffSpecs({
    sourceSpec: { content: released, location: 'released', format: 'openapi3' },
    destinationSpec: { content: current, location: 'current', format: 'openapi3' },
  });
  const all = [
    ...('breakingDifferences' in r ? r.breakingDifferences : []),
    ...r.nonBreakingDifferences,
    ...r.unclassifiedDifferences,
  ];
  const breaking = all
    .filter((d) => d.type !== 'non-breaking' && !TOLERATED.has(d.code))
    .map((d) => {
      const where = [...d.sourceSpecEntityDetails, ...d.destinationSpecEntityDetails][0]?.location;
      return `${d.code} at ${where ?? '?'}`;
    });
  return { breaking, total: all.length };
}

const versionOf = (text: string): string =>
  (parse(text) as { info: { version: string } }).info.version;
const parts = (v: string): number[] => v.split('.').map((n) => Number.parseInt(n, 10) || 0);
const above = (a: string, b: string): boolean => {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
};

/** What keeps the current contract from being released as it stands; [] when nothing does. */
export async function contractProblems(
  released: string,
  current: string,
  changelog: string,
): Promise<string[]> {
  const { breaking, total } = await contractChanges(released, current);
  if (total === 0) return [];
  const [was, now] = [versionOf(released), versionOf(current)];
  const problems: string[] = [];
  if (!above(now, was))
    problems.push(`the contract changed (${total} differences) but its version is still ${now}`);
  if (breaking.length && (parts(now)[0] ?? 0) <= (parts(was)[0] ?? 0))
    problems.push(
      `${breaking.length} breaking change(s) need a new major version (released: ${was}, now: ${now}):\n    ${breaking.join('\n    ')}`,
    );
  if (!new RegExp(`^## ${now.replaceAll('.', '\\.')}\\b`, 'm').test(changelog))
    problems.push(`CHANGELOG.md has no "## ${now}" entry`);
  return problems;
}

if (process.argv[1]?.endsWith('contract-check.ts')) {
  const read = (p: string): string => readFileSync(p, 'utf8');
  const problems = await contractProblems(
    read('spec/released/openapi.yaml'),
    read('spec/openapi.yaml'),
    read('CHANGELOG.md'),
  );
  if (problems.length) {
    console.error(`contract check failed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('contract check: compatible with the released contract');
}
