/**
 * Connecting to the API server: `LEGO_KUBE_API_URL` when set (kube-lego's way, typically a
 * `kubectl proxy` sidecar), else in-cluster config when running in a pod, else the kubeconfig
 * (`KUBECONFIG` or ~/.kube/config), as kubectl finds it.
 */
import { KubeConfig } from '@kubernetes/client-node';

/** A KubeConfig for the operator's settings. */
export function kubeConfig(kubeApiUrl: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (kubeApiUrl !== undefined) {
    config.loadFromClusterAndUser(
      { name: 'lego', server: kubeApiUrl, skipTLSVerify: false },
      { name: 'lego' },
    );
  } else {
    config.loadFromDefault();
  }
  return config;
}
