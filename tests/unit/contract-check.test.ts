import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { contractChanges, contractProblems } from '../../scripts/contract-check.js';

const current = readFileSync('spec/openapi.yaml', 'utf8');
const changelog = readFileSync('CHANGELOG.md', 'utf8');
type Doc = {
  info: { version: string };
  paths: Record<string, any>;
  components: { schemas: Record<string, any> };
};

/** The current contract, changed by `change`, as YAML. */
function changed(change: (doc: Doc) => void): string {
  const doc = parse(current) as Doc;
  change(doc);
  return stringify(doc);
}

describe('the contract check (scripts/contract-check.ts, openapi-diff)', function () {
  this.timeout(60_000);

  it('finds a removed operation and a newly required request field breaking', async () => {
    const removed = changed((d) => delete d.paths['/api/languages']);
    expect((await contractChanges(current, removed)).breaking.join('\n')).to.match(
      /method\.remove|path\.remove/,
    );
    const stricter = changed((d) =>
      d.components.schemas.EvaluationRequest.required.push('language'),
    );
    expect((await contractChanges(current, stricter)).breaking).to.have.length.greaterThan(0);
  });

  it('tolerates an answer gaining a field, and sees no change in the same contract', async () => {
    const more = changed((d) => {
      d.components.schemas.EvaluationStatus.properties.queue_seconds = { type: 'integer' };
    });
    const r = await contractChanges(current, more);
    expect(r.breaking).to.deep.equal([]);
    expect(r.total).to.be.greaterThan(0);
    expect(await contractChanges(current, current)).to.deep.equal({ breaking: [], total: 0 });
  });

  it('fails a breaking change without a new major version, and passes it with one', async () => {
    const released = changed((d) => (d.info.version = '3.4.0'));
    const breaking = (version: string) =>
      changed((d) => {
        d.info.version = version;
        delete d.paths['/api/languages'];
      });
    const minor = await contractProblems(released, breaking('3.5.0'), '## 3.5.0\n');
    expect(minor.join('\n')).to.match(/breaking change\(s\) need a new major version/);
    expect(await contractProblems(released, breaking('4.0.0'), '## 4.0.0\n')).to.deep.equal([]);
  });

  it('asks for a new version and its changelog entry for any change', async () => {
    const grown = (version: string) =>
      changed((d) => {
        d.info.version = version;
        d.components.schemas.EvaluationStatus.properties.queue_seconds = { type: 'integer' };
      });
    const same = await contractProblems(current, grown(parse(current).info.version), changelog);
    expect(same.join('\n')).to.match(/its version is still/);
    const undocumented = await contractProblems(current, grown('99.1.0'), changelog);
    expect(undocumented.join('\n')).to.match(/CHANGELOG.md has no "## 99.1.0" entry/);
  });
});
