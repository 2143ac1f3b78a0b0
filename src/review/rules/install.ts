/**
 * git-hooks-config and install-scripts: code that runs on a developer's machine or in CI merely
 * because they committed, installed or built — git hooks (husky, lefthook, pre-commit local
 * repos, core.hooksPath), package-manager lifecycle scripts (npm pre/post/install and prepare:
 * ua-parser-js 2021, nx "s1ngularity" 2025), setup.py command classes, non-standard Python build
 * backends, Cargo build scripts, composer scripts.
 */
import { enclosingKeys, type FileView } from '../context.js';
import { mk, type Report } from './common.js';

const BENIGN_LIFECYCLE = /^\s*"?(husky( install)?|husky \|\| true|is-ci \|\| husky( install)?|patch-package|npx --no-install husky|node-gyp rebuild|node-gyp-build|prebuild-install( \|\| node-gyp rebuild)?|ngcc|tsc|tsc -p [\w./-]+|tsc -b|npm run build|yarn build|pnpm build|npm run compile|yarn run build|svelte-kit sync|nuxt prepare|nuxi prepare|astro sync|lefthook install|simple-git-hooks|electron-builder install-app-deps|ts-patch install|playwright install|opencollective-postinstall( \|\| (true|exit 0))?|npm run build:\w+|prisma generate|npx only-allow \w+|only-allow \w+|electron-rebuild|cypress install|flow-typed install|(npx )?(rollup -c|vite build|tsup|webpack|babel src[\w -]*|esbuild [\w ./=-]*|unbuild|microbundle|pkgroll|tsc && [\w ./:-]+|ng build)|npm run (build|compile|prepare)[\w:-]*( && [\w ./:-]+)?)"?,?\s*$/;
const STANDARD_BACKENDS = /^(setuptools\.build_meta(:__legacy__)?|hatchling\.build|poetry\.core\.masonry\.api|poetry\.masonry\.api|flit_core\.buildapi|flit\.buildapi|pdm\.backend|pdm\.pep517\.api|maturin|scikit_build_core\.build|mesonpy|sipbuild\.api|whey|uv_build|enscons\.api|setuptools_rust)$/;

export function hookRules(v: FileView, report: Report): void {
  const p = v.lower;
  if (v.isVendored || v.diff.status === 'deleted') return;
  const hookFile = /(^|\/)\.husky\/(?!_\/)[^/]+$|(^|\/)\.githooks\/|(^|\/)\.git-hooks\/|(^|\/)githooks\/|(^|\/)\.?lefthook(-local)?\.ya?ml$|(^|\/)\.simple-git-hooks\.(json|js|cjs)$|(^|\/)\.overcommit\.yml$|(^|\/)\.git\/hooks\//.test(p);
  if (hookFile && v.added.some((l) => l.text.trim() && !/^\s*#/.test(l.text))) {
    const at = v.added.find((l) => l.text.trim() && !/^\s*(#|\.\s|npx lint-staged|npm (run )?(test|lint)|yarn (test|lint)|pnpm (test|lint))/.test(l.text)) ?? v.added.find((l) => l.text.trim())!;
    const plain = !v.added.some((l) => l.text.trim() && !/^\s*(#|\.\s|npx (--no(-install)? )?(lint-staged|commitlint|prettier|eslint)\b|npm (run )?(test|lint|format)\b|yarn (run )?(test|lint|format)\b|pnpm (run )?(test|lint|format)\b|exit 0|set -e|"?\$\(dirname|[\w-]+:\s*$|\s+(run|glob|parallel|commands|files|stage_fixed):|\s+[\w-]+:\s*$|[{}[\]]|"[\w-]+"\s*:\s*"(npx )?(lint-staged|npm test|npm run lint)"|\w+\s*=)/.test(l.text));
    report(mk(v, 'git-hook', 'git-hooks-config', plain ? 'low' : 'medium', at, '', 'a git hook runs automatically on every developer\'s commit/push/checkout once installed', 'keep hooks to lint/test commands; review anything else as code'));
  }
  for (const l of v.added) {
    if (/core\.hooksPath|\bgit config\b[^\n]*hooks/.test(l.text) && !v.isDoc) {
      report(mk(v, 'hooks-path', 'git-hooks-config', 'medium', l, '', 'redirects git hooks to a directory in the repository, so committed scripts run on every commit', 'document the hooks and keep them minimal'));
    }
  }
  if (/(^|\/)\.pre-commit-config\.ya?ml$/.test(p)) {
    const local = v.added.find((l) => /repo\s*:\s*local\b/.test(l.text)) ?? (v.after.some((l) => /repo\s*:\s*local\b/.test(l.text)) ? v.added.find((l) => /entry\s*:/.test(l.text)) : undefined);
    if (local) {
      const entries = v.added.filter((l) => /entry\s*:/.test(l.text));
      const risky = entries.some((l) => /curl|wget|bash -c|sh -c|base64|python -c|node -e|\|/.test(l.text));
      report(mk(v, 'pre-commit-local', 'git-hooks-config', risky ? 'high' : 'medium', entries.find((l) => /curl|wget|bash -c|sh -c|base64|python -c|node -e|\|/.test(l.text)) ?? local, '', 'a pre-commit hook from `repo: local` runs a command from this repository on every commit', 'prefer pinned upstream hook repositories; review the entry command'));
    }
  }
}

export function installRules(v: FileView, report: Report): void {
  const p = v.lower;
  if (v.isVendored || v.diff.status === 'deleted') return;
  if (/(^|\/)package\.json$/.test(p)) {
    for (let i = 0; i < v.added.length; i++) {
      const l = v.added[i]!;
      const m = /^\s*"(preinstall|install|postinstall|prepare|prepublish|preprepare|postprepare|prepack|postpack|preuninstall|postuninstall|dependencies)"\s*:\s*"(.*)"\s*,?\s*$/.exec(l.text);
      if (!m) continue;
      const keys = enclosingKeys(v, v.afterIndex[i]!);
      if (keys[1] !== undefined && keys[1] !== 'scripts') continue;
      const value = m[2]!;
      if (BENIGN_LIFECYCLE.test(value)) {
        report(mk(v, 'lifecycle-script', 'install-scripts', 'low', l, '', `a ${m[1]} script runs on install; this one is a common tool (${value.slice(0, 40)})`, 'none needed if the tool is expected'));
        continue;
      }
      const install = /^(pre|post)?install$/.test(m[1]!);
      const bad = /curl|wget|\| *(ba)?sh|base64|eval|node -e|python -c|powershell|start \/b|\bnc\b|https?:\/\/|\.exe\b|bash |\/dev\/tcp|>\s*\/dev\/null\s*2>&1\s*&|nohup|& *$|\s&\s/i.test(value);
      report(mk(v, 'lifecycle-script', 'install-scripts', bad ? 'critical' : install ? 'high' : 'medium', l, '', `the ${m[1]} script runs automatically ${install ? 'on every `npm install` of this package (including as a dependency)' : 'when the package is installed from git or packed'} with the user's full privileges${bad ? ' — and it downloads, decodes or backgrounds something' : ''} (the pattern of ua-parser-js 2021 and nx 2025)`, 'avoid install-time scripts; if unavoidable, keep them to a reviewed local build step and publish with --ignore-scripts friendly alternatives'));
    }
  }
  if (/(^|\/)composer\.json$/.test(p)) {
    const l = v.added.find((x) => /"(pre|post)-(install|update|autoload-dump|package-install)-cmd"\s*:/.test(x.text));
    if (l) report(mk(v, 'composer-script', 'install-scripts', 'high', l, '', 'a composer script runs on install/update', 'review the command; avoid install-time scripts'));
  }
  if (/(^|\/)setup\.py$/.test(p)) {
    for (const l of v.added) {
      if (/cmdclass|class\s+\w+\s*\(\s*(install|develop|egg_info|build_py|build_ext|sdist|bdist_wheel|_install)\b/.test(l.text)) {
        report(mk(v, 'setup-py-cmdclass', 'install-scripts', 'high', l, '', 'a custom setuptools command runs arbitrary code during `pip install`', 'move the logic to an explicit build step; avoid code at install time'));
      } else if (/\b(os\.system|subprocess\.|urllib\.request|requests\.(get|post)|exec\(|eval\(|__import__\(|socket\.)/.test(l.text)) {
        report(mk(v, 'setup-py-code', 'install-scripts', 'high', l, '', 'setup.py runs a command or network call; it executes on every source install', 'keep setup.py declarative (or move to pyproject.toml)'));
      }
    }
  }
  if (/(^|\/)pyproject\.toml$/.test(p)) {
    for (const l of v.added) {
      const b = /^\s*build-backend\s*=\s*["']([^"']+)["']/.exec(l.text);
      if (b && !STANDARD_BACKENDS.test(b[1]!)) report(mk(v, 'build-backend', 'install-scripts', 'high', l, '', `non-standard build backend "${b[1]}" runs its code when anyone pip-installs from source`, 'use a standard backend (setuptools, hatchling, flit, poetry-core, pdm, maturin)'));
      if (/^\s*\[tool\.hatch\.build(\.targets\.\w+)?\.hooks\.custom\]/.test(l.text)) report(mk(v, 'hatch-build-hook', 'install-scripts', 'medium', l, '', 'a custom Hatch build hook runs repository code when the package is built or installed from source', 'review the hook script as install-time code'));
      if (/^\s*backend-path\s*=/.test(l.text)) report(mk(v, 'backend-path', 'install-scripts', 'high', l, '', 'backend-path loads the build backend from the repository itself: in-tree code runs on install', 'use a published build backend'));
    }
  }
  if (/(^|\/)build\.rs$/.test(p) && v.added.length) {
    const risky = v.added.find((l) => /Command::new|std::process|reqwest|TcpStream|curl|wget|include_bytes!|env::var\("(HOME|USER|SSH|AWS)/.test(l.text));
    report(mk(v, 'cargo-build-rs', 'install-scripts', risky ? 'high' : 'medium', risky ?? v.added[0]!, '', `a Cargo build script runs at compile time on every machine that builds the crate${risky ? ', and this one runs processes or touches the network/credentials' : ''}`, 'keep build.rs to code generation; no process spawning or network'));
  }
  if (/(^|\/)(Makefile|GNUmakefile|makefile)$/i.test(v.path)) {
    for (let i = 0; i < v.added.length; i++) {
      const l = v.added[i]!;
      if (!/^\t/.test(l.text)) continue;
      // find the enclosing target
      let target = '';
      for (let j = v.afterIndex[i]! - 1; j >= 0; j--) {
        const t = /^([A-Za-z0-9_.-]+)\s*:(?!=)/.exec(v.after[j]!.text);
        if (t) {
          target = t[1]!;
          break;
        }
      }
      if (/^(install|all|default|build|setup|\.DEFAULT_GOAL)$/.test(target) && /curl|wget|\|\s*(ba)?sh|sudo|chmod|ssh|scp|base64/.test(l.text)) {
        report(mk(v, 'make-install', 'install-scripts', 'medium', l, '', `the Makefile's ${target} target (run by default or by installers) downloads, escalates or changes permissions`, 'keep default/install targets to building and copying files'));
      }
    }
  }
}
