/**
 * The spare TUI's process (spare.ts): `node <bundle>/spare-….js --repo ROOT --bundle ENTRY`, started
 * detached by an opened TUI (spawn.ts). Its stdio is /dev/null; it draws only on a terminal a
 * client hands it.
 */
import { runSpare } from './spare.ts';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const repoRoot = option('--repo');
const bundle = option('--bundle');
if (!repoRoot || !bundle) {
  process.stderr.write('usage: spare --repo ROOT --bundle ENTRY (started by the TUI, not by hand)\n');
  process.exit(2);
}
const code = await runSpare({ repoRoot, bundle }).catch(() => 1);
// Whatever handle is left (a reconnect timer, the daemon's socket) must not keep a spare alive.
process.exit(code);
