// Files that are never indexed, read for the model, or sent anywhere, whatever .gitignore says:
// environment files, private keys, certificates and credential stores.
const secretNamePatterns: readonly RegExp[] = [
  /^\.env(\..*)?$/i,
  /\.(pem|key|p12|pfx|crt|cer|der|csr|jks|keystore|kdbx|gpg|asc|ovpn)$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/i,
  /^\.(netrc|npmrc|pypirc|git-credentials|pgpass)$/i,
  /^(credentials|secrets?)(\.[a-z]+)?$/i,
  /^\.?htpasswd$/i,
];

/** Folders never walked: version control, dependencies, build output. */
export const skippedDirectoryNames: ReadonlySet<string> = new Set(['.git', 'node_modules', '.hg', '.svn', 'dist', 'out', '.next', '.cache', '.context-ledger-dev']);

export function isSecretFileName(name: string): boolean {
  return secretNamePatterns.some((pattern) => pattern.test(name));
}

/** True if any segment of a workspace-relative path names a secret file or a folder like `.ssh`. */
export function isSecretPath(relativePath: string): boolean {
  const segments = relativePath.split(/[\\/]/);
  return segments.some((segment, index) => (index < segments.length - 1 ? segment === '.ssh' || segment === '.gnupg' || segment === '.aws' : isSecretFileName(segment)));
}
