/** The certificate lifecycle end to end (certificate-lifecycle-suite.ts), Pebble validating through the ingress router. */
import { certificateLifecycleSuite } from './certificate-lifecycle-suite.ts';

certificateLifecycleSuite('router');
