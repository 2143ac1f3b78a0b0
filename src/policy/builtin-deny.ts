/**
 * The built-in deny list: credential stores that stay hidden from the agent even when a policy
 * forgets them. Paths are relative to the user's home directory.
 */
export const BUILTIN_DENY_HOME: readonly string[] = [
  '.ssh', '.aws', '.config/gh', '.npmrc', '.docker', '.netrc', '.git-credentials', '.kube', '.gnupg',
  '.config/gcloud', '.azure', '.config/doctl', '.oci', '.terraform.d', '.pypirc', '.cargo/credentials',
  '.cargo/credentials.toml', '.config/hub', '.vault-token', '.config/op', '.password-store', '.local/share/keyrings',
  '.gem/credentials', '.m2/settings.xml', '.gradle/gradle.properties', '.config/configstore', '.yarnrc', '.yarnrc.yml',
  '.anthropic', '.config/anthropic', '.codex', '.claude.json', '.claude/.credentials.json', '.config/openai',
  '.gemini/oauth_creds.json', '.aider.conf.yml',
];

/** Files named like this outside the workspace are denied too (`.env`, `.env.local`, ...). */
export const DOTENV_PATTERN = /^\.env(\..*)?$/;
