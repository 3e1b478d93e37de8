// Worker entry when running from TypeScript sources (tests): registers every source's workers, then runs.
import './sources/index';
import { runWorkerIfRequested } from './workers';

runWorkerIfRequested();
