// Where a run's garbage comes from. Preload (`node --import=./test/bench/alloc-prof.mjs`)
// that keeps V8's sampling heap profile of every allocation, collected or not
// (HeapProfiler.startSampling with includeObjectsCollectedByMajorGC/MinorGC; a plain --heap-prof
// keeps only what is still alive at the end), written at exit to
// $ALLOC_PROF_DIR/alloc-PID.heapprofile. Summarise with alloc-summary.mjs.
import fs from 'node:fs';
import inspector from 'node:inspector';

const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.startSampling', { samplingInterval: 65536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on('exit', () => {
  // A session on the main thread answers synchronously, so the file is written before exit.
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) fs.writeFileSync(`${process.env.ALLOC_PROF_DIR ?? '.'}/alloc-${process.pid}.heapprofile`, JSON.stringify(r.profile));
  });
});
