/** The certificate lifecycle end to end (certificate-lifecycle-suite.ts), Pebble validating through Traefik. */
import { certificateLifecycleSuite } from './certificate-lifecycle-suite.ts';

certificateLifecycleSuite('traefik');
