// Files that are never indexed, read for the model, or sent anywhere, whatever .gitignore says:
// environment files, private keys, certificates, credential stores and infrastructure state.
// Names are compared case-folded: on a case-insensitive disk `.ENV` and `ID_RSA` are the same
// files as `.env` and `id_rsa`, and on any disk they hold the same kind of secret.
const secretNamePatterns: readonly RegExp[] = [
  // Environment files: .env, .env.local, .env-prod, prod.env, .envrc (direnv).
  /^\.env([._-].*)?$/,
  /\.env$/,
  /^\.envrc$/,
  // Keys, certificates and key stores (.p8: Apple and other PKCS#8 keys; .ppk: PuTTY).
  /\.(pem|key|p8|p12|pfx|pkcs12|crt|cer|der|csr|jks|keystore|kdbx|gpg|asc|ovpn|ppk)$/,
  /^id_(rsa|dsa|ecdsa|ed25519)(_sk)?(\.pub)?$/,
  // Credential stores of common tools.
  /^\.(netrc|npmrc|pypirc|git-credentials|pgpass|s3cfg|boto|dockercfg|vault-token|terraformrc)$/,
  /^terraform\.rc$/,
  /^(credentials|secrets?)(\.[a-z]+)?$/,
  /^\.?htpasswd$/,
  // Terraform variables and state (state holds every secret a plan touched, in plain text).
  /\.tfvars(\.json)?$/,
  /\.tfstate(\.backup)?$/,
  // Kubernetes client configs (tokens and client keys).
  /^kubeconfig(\..*)?$/,
  /\.kubeconfig$/,
  // Google application-default credentials (a service-account key or a refresh token).
  /^application_default_credentials\.json$/,
];

/** Folders whose every file is a secret: ssh, gpg, cloud and cluster credentials. */
const secretFolderNames: ReadonlySet<string> = new Set(['.ssh', '.gnupg', '.aws', '.azure', '.kube', '.gcloud']);

/** Folders secret only under a given parent: `~/.config/gcloud` (gcloud's keys and tokens). */
const secretNestedFolders: ReadonlyArray<readonly [parent: string, folder: string]> = [['.config', 'gcloud']];

/** Files secret only in a given folder: `.docker/config.json` (registry auths). */
const secretInFolder: ReadonlyArray<readonly [folder: string, file: RegExp]> = [['.docker', /^config\.json$/]];

/** Folders never walked: version control, dependencies, build output (compared case-folded). */
export const skippedDirectoryNames: ReadonlySet<string> = new Set(['.git', 'node_modules', '.hg', '.svn', 'dist', 'out', '.next', '.cache', '.context-ledger-dev']);

/** The case-folded form names are compared in. */
export function foldName(name: string): string {
  return name.toLowerCase();
}

export function isSecretFileName(name: string): boolean {
  const folded = foldName(name);
  return secretNamePatterns.some((pattern) => pattern.test(folded));
}

/** True if any segment of a workspace-relative path names a secret file or a folder like `.ssh`. */
export function isSecretPath(relativePath: string): boolean {
  const segments = relativePath.split(/[\\/]/).map(foldName);
  const last = segments.length - 1;
  return segments.some((segment, index) => {
    const parent = segments[index - 1];
    if (index < last) {
      return secretFolderNames.has(segment) || secretNestedFolders.some(([outer, folder]) => outer === parent && folder === segment);
    }
    return isSecretFileName(segment) || secretInFolder.some(([folder, file]) => folder === parent && file.test(segment));
  });
}

/**
 * True if a segment of the path is a folder the tools never walk (`.git`, `node_modules`, …),
 * or the path is one itself, file or folder (a linked worktree's `.git` is a file).
 */
export function isInSkippedDirectory(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((segment) => skippedDirectoryNames.has(foldName(segment)));
}

// Credentials recognised by what a file holds, whatever it is called: a renamed or hard-linked
// key is still a key. The private-key test needs the base64 body, so source code that merely
// mentions the PEM header (a parser, a test) stays readable.
const privateKeyBlock = /-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----\r?\n([A-Za-z0-9+/=:, -]*\r?\n)*?[A-Za-z0-9+/=]{40,}/;
const serviceAccountType = /"type"\s*:\s*"(service_account|authorized_user|external_account)"/;
const privateKeyField = /"(private_key|refresh_token|client_secret)"\s*:\s*"/;

/** What kind of credential `text` holds, in words, or undefined if none was recognised. */
export function describeSecretContent(text: string): string | undefined {
  if (privateKeyBlock.test(text)) {
    return 'a private key';
  }
  if (serviceAccountType.test(text) && privateKeyField.test(text)) {
    return 'cloud credentials (a service-account or user key)';
  }
  return undefined;
}
