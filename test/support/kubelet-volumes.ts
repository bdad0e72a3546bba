/**
 * A pod's volumes, as directories of the process kubelet: Secret, ConfigMap, downward API and projected
 * volumes (service account tokens from the TokenRequest API included) are written as files; emptyDir is an
 * empty directory; hostPath is the host path itself. Other kinds (persistentVolumeClaim, ...) become an
 * empty directory, which is what a test needs of them here.
 */
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { ContainerConfigError, fieldRefValue, resourceFieldValue, type ConfigSource } from './kubelet-env.ts';

/** A service account token from the TokenRequest API. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** What writing volumes needs besides the pod. */
export interface VolumeContext {
  readonly pod: V1Pod;
  readonly podIP: string;
  readonly source: ConfigSource;
  /** A token of the pod's service account bound to the pod, for `audience` (the API server's when undefined). */
  requestToken(audience: string | undefined, expirationSeconds: number): Promise<IssuedToken>;
}

/** Volumes written by {@link writeVolumes}. */
export interface WrittenVolumes {
  /** The directory (or, for hostPath, the path) of each volume by name. */
  readonly paths: ReadonlyMap<string, string>;
  /** When the earliest projected token should be renewed (80% of its lifetime), if there is one. */
  readonly renewAt?: Date;
}

/** Files of one volume: relative path → content and mode. */
type Files = Map<string, { content: Buffer; mode: number }>;

/** Files of a Secret or ConfigMap source, `items` selecting and renaming keys. */
function keyFiles(
  files: Files,
  data: Record<string, Buffer> | undefined,
  what: string,
  items: V1KeyToPath[] | undefined,
  optional: boolean | undefined,
  mode: number,
): void {
  if (data === undefined) {
    if (optional) return;
    throw new ContainerConfigError(`${what} not found`);
  }
  const selected = items?.length
    ? items
    : Object.keys(data).map((key) => ({ key, path: key }) as V1KeyToPath);
  for (const item of selected) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new ContainerConfigError(`${what}: key ${item.key} not found`);
    }
    files.set(item.path, { content, mode: item.mode ?? mode });
  }
}

/** Writes `files` into `dir` replacing what was there, each file atomically. */
async function writeFiles(dir: string, files: Files): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [path, { content, mode }] of files) {
    const target = join(dir, normalize(path).replace(/^(\.\.(\/|$))+/, ''));
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, content);
    await chmod(temporary, mode);
    await rename(temporary, target);
  }
}

/** Writes the files of one volume; returns the token expiry to renew at, for projected tokens. */
async function volumeFiles(
  context: VolumeContext,
  volume: V1Volume,
  files: Files,
): Promise<Date | undefined> {
  const { pod, source } = context;
  const namespace = pod.metadata?.namespace ?? '';
  let renewAt: Date | undefined;
  const earliest = (date: Date) => (renewAt = renewAt === undefined || date < renewAt ? date : renewAt);
  if (volume.secret) {
    const name = volume.secret.secretName ?? '';
    const data = await source.secret(name);
    const mode = volume.secret.defaultMode ?? 0o644;
    keyFiles(files, data, `secret ${namespace}/${name}`, volume.secret.items, volume.secret.optional, mode);
  } else if (volume.configMap) {
    const name = volume.configMap.name ?? '';
    const data = await source.configMap(name);
    const mode = volume.configMap.defaultMode ?? 0o644;
    keyFiles(
      files,
      data,
      `configmap ${namespace}/${name}`,
      volume.configMap.items,
      volume.configMap.optional,
      mode,
    );
  } else if (volume.downwardAPI) {
    const mode = volume.downwardAPI.defaultMode ?? 0o644;
    for (const item of volume.downwardAPI.items ?? []) {
      const value = item.fieldRef
        ? fieldRefValue(pod, item.fieldRef, context.podIP)
        : item.resourceFieldRef
          ? resourceFieldValue(pod, item.resourceFieldRef)
          : '';
      files.set(item.path, { content: Buffer.from(value), mode: item.mode ?? mode });
    }
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? 0o644;
    for (const projection of volume.projected.sources ?? []) {
      if (projection.secret) {
        const name = projection.secret.name ?? '';
        const data = await source.secret(name);
        keyFiles(
          files,
          data,
          `secret ${namespace}/${name}`,
          projection.secret.items,
          projection.secret.optional,
          mode,
        );
      } else if (projection.configMap) {
        const name = projection.configMap.name ?? '';
        const data = await source.configMap(name);
        const what = `configmap ${namespace}/${name}`;
        keyFiles(files, data, what, projection.configMap.items, projection.configMap.optional, mode);
      } else if (projection.downwardAPI) {
        await volumeFiles(
          context,
          { name: volume.name, downwardAPI: { ...projection.downwardAPI, defaultMode: mode } },
          files,
        );
      } else if (projection.serviceAccountToken) {
        const { audience, expirationSeconds, path } = projection.serviceAccountToken;
        const issued = await context.requestToken(audience || undefined, expirationSeconds ?? 3607);
        files.set(path, { content: Buffer.from(issued.token), mode });
        const now = Date.now();
        earliest(new Date(now + (issued.expiresAt.getTime() - now) * 0.8));
      }
    }
  }
  return renewAt;
}

/**
 * Writes every volume of the pod under `volumesDir/<volume name>`; throws a {@link ContainerConfigError}
 * while a Secret or ConfigMap a volume needs is missing (the caller retries, as the kubelet does).
 */
export async function writeVolumes(context: VolumeContext, volumesDir: string): Promise<WrittenVolumes> {
  const paths = new Map<string, string>();
  let renewAt: Date | undefined;
  for (const volume of context.pod.spec?.volumes ?? []) {
    if (volume.hostPath) {
      paths.set(volume.name, volume.hostPath.path);
      continue;
    }
    const dir = join(volumesDir, volume.name);
    const files: Files = new Map();
    const renew = await volumeFiles(context, volume, files);
    if (renew !== undefined && (renewAt === undefined || renew < renewAt)) renewAt = renew;
    await writeFiles(dir, files);
    paths.set(volume.name, dir);
  }
  return renewAt === undefined ? { paths } : { paths, renewAt };
}

/** Rewrites the volumes that hold projected service account tokens; returns the next renewal time. */
export async function renewTokens(context: VolumeContext, volumesDir: string): Promise<Date | undefined> {
  let renewAt: Date | undefined;
  for (const volume of context.pod.spec?.volumes ?? []) {
    if (!volume.projected?.sources?.some((projection) => projection.serviceAccountToken)) continue;
    const files: Files = new Map();
    const renew = await volumeFiles(context, volume, files);
    if (renew !== undefined && (renewAt === undefined || renew < renewAt)) renewAt = renew;
    await writeFiles(join(volumesDir, volume.name), files);
  }
  return renewAt;
}

/**
 * Makes `root + mountPath` point at the volume (or its `subPath`), so a process finds a mount at the same
 * place under its root as a container would at `/`: a symbolic link, parents created as needed.
 */
export async function linkMount(root: string, mountPath: string, target: string): Promise<string> {
  const at = join(root, normalize(mountPath));
  await mkdir(dirname(at), { recursive: true });
  await rm(at, { recursive: true, force: true });
  await symlink(target, at);
  return at;
}
