/**
 * Applying manifests/install.yml (and other YAML) to a cluster the way `kubectl apply` does for new objects:
 * create, or patch when it exists; with a server-side dry run first when asked.
 */
import { readFile } from 'node:fs/promises';
import {
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

/** The objects of a YAML file, in order. */
export async function readManifest(path: string | URL): Promise<KubernetesObject[]> {
  return loadAllYaml(await readFile(path, 'utf8')).filter(Boolean) as KubernetesObject[];
}

/** Creates each object, or merge-patches it when it exists; `dryRun` asks the server to validate only. */
export async function applyObjects(
  kube: KubeConfig,
  objects: KubernetesObject[],
  dryRun = false,
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kube);
  for (const object of objects) {
    try {
      await api.create(object, undefined, dryRun ? 'All' : undefined, 'kube-lego-tests');
    } catch (error) {
      if ((error as { code?: number }).code !== 409) {
        throw new Error(`applying ${object.kind} ${object.metadata?.name}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await api.patch(
        object,
        undefined,
        dryRun ? 'All' : undefined,
        'kube-lego-tests',
        undefined,
        PatchStrategy.MergePatch,
      );
    }
  }
}
