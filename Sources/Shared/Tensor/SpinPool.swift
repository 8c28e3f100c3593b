import Foundation
import Synchronization

/// Worker threads that stay awake between the many short parallel kernels of a forward pass.
///
/// `DispatchQueue.concurrentPerform` wakes its threads on every call; decoding one token makes
/// ~150 such calls of 50–500 µs each, and the wake-ups cost 15% of the time. Here the workers
/// spin on a generation counter for a while after each job (so the next kernel starts at once)
/// and sleep on a semaphore when no work comes for `spinLimit`. The calling thread runs job 0.
public final class SpinPool: @unchecked Sendable {
    public static let shared = SpinPool(threads: Parallel.coreCount)

    public let threads: Int
    /// (post count << 8) | jobs: a worker learns from one load whether it takes part.
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let sleeping = Atomic<Int>(0)
    /// Set while a job runs: a kernel that might be called from inside a job checks it and runs
    /// on its own thread instead of posting (which would wait for itself).
    private let running = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    /// The current job; written before `generation` is bumped (release), read after (acquire) by
    /// the workers that take part, and not changed until they are done.
    nonisolated(unsafe) private var body: ((Int) -> Void)?
    /// Nanoseconds a worker keeps spinning after its last job before it sleeps.
    private let spinLimit = Atomic<UInt64>(200_000)

    init(threads: Int) {
        self.threads = max(1, threads)
        for index in 1..<self.threads {
            let thread = Thread { [unowned self] in self.workerLoop(index) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body(j)` for every j in 0..<jobs and returns when all are done. The parts go to the
    /// pool's threads, the caller taking part 0 (with more parts than threads, each thread takes
    /// every threads-th part). When the pool is already running a job (a call from inside a job,
    /// or from another thread) the parts run here, one after another: a nested post would wait
    /// for itself, and the same parts in turn give the same sums (a result must not depend on
    /// what else the process was doing).
    public func run(jobs parts: Int, _ body: (Int) -> Void) {
        guard parts > 1 else { if parts == 1 { body(0) }; return }
        let jobs = min(parts, threads, 255)
        guard jobs > 1, !isBusy else { for part in 0..<parts { body(part) }; return }
        guard jobs == parts else {
            run(jobs: jobs) { job in for part in stride(from: job, to: parts, by: jobs) { body(part) } }
            return
        }
        lock.lock()
        running.store(true, ordering: .relaxed)
        defer {
            running.store(false, ordering: .relaxed)
            lock.unlock()
        }
        withoutActuallyEscaping(body) { escaping in
            self.body = escaping
            remaining.store(jobs - 1, ordering: .releasing)
            let previous = generation.load(ordering: .relaxed)
            // Sequentially consistent store and load (and the same on the worker side): with only
            // release/acquire, the poster could miss a worker that is just going to sleep while
            // the worker misses the new generation (store-load reordering).
            generation.store(((previous >> 8) + 1) << 8 | jobs, ordering: .sequentiallyConsistent)
            // Wake sleepers (each takes one signal).
            let asleep = sleeping.load(ordering: .sequentiallyConsistent)
            for _ in 0..<asleep { wake.signal() }
            escaping(0)
            while remaining.load(ordering: .acquiring) > 0 { spinPause() }
            self.body = nil
        }
    }

    /// How long (ns) workers spin for the next job before sleeping. The default, 200 µs, suits a
    /// process that shares the machine (a test runner, a pipeline): a spinning worker holds a
    /// core. A process that owns the cores for a long run of products with short single-threaded
    /// gaps (training: norms, activations, the optimiser between products) loses a wake-up
    /// (~0.2 ms) at every gap longer than the limit and can spin for longer.
    public var spinNanoseconds: UInt64 {
        get { spinLimit.load(ordering: .relaxed) }
        set { spinLimit.store(newValue, ordering: .relaxed) }
    }

    /// Whether a job is running (from this thread or another).
    public var isBusy: Bool { running.load(ordering: .relaxed) }

    private func workerLoop(_ index: Int) {
        // The generation at construction, not a load: a job posted before this thread got here
        // must still be seen as new.
        var seen = 0
        while true {
            // Spin for new work, then sleep.
            let start = DispatchTime.now().uptimeNanoseconds
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spinPause()
                current = generation.load(ordering: .acquiring)
                if current == seen, DispatchTime.now().uptimeNanoseconds - start > spinLimit.load(ordering: .relaxed) {
                    sleeping.add(1, ordering: .sequentiallyConsistent)
                    // Re-check after announcing: the poster may have bumped meanwhile.
                    if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                    sleeping.subtract(1, ordering: .sequentiallyConsistent)
                    current = generation.load(ordering: .acquiring)
                }
            }
            seen = current
            if index < current & 0xFF {
                body?(index)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }

    @inline(__always)
    private func spinPause() {
        #if arch(x86_64)
        // A few cycles' pause so that the spinning core does not starve its sibling.
        for _ in 0..<8 { _ = generation.load(ordering: .relaxed) }
        #endif
    }
}
