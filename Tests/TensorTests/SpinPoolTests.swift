import Foundation
import Shared
import Synchronization
import Testing

/// SpinPool.run: every part runs exactly once, whether there are fewer or more parts than threads,
/// whether the call comes from inside a job (which must not wait for itself) or from another
/// thread while the pool is busy.
@Suite struct SpinPoolTests {
    /// How many times each part ran (each part counts in its own slot).
    static func counts(parts: Int, _ run: (Int, (Int) -> Void) -> Void) -> [Int] {
        let ran = UnsafeMutablePointer<Int>.allocate(capacity: max(parts, 1))
        ran.initialize(repeating: 0, count: max(parts, 1))
        defer { ran.deallocate() }
        run(parts) { part in ran[part] += 1 }
        return Array(UnsafeBufferPointer(start: ran, count: parts))
    }

    @Test(arguments: [0, 1, 2, 3, 7, 64, 300])
    func everyPartOnce(parts: Int) {
        let ran = Self.counts(parts: parts) { SpinPool.shared.run(jobs: $0, $1) }
        #expect(ran == Array(repeating: 1, count: parts))
    }

    @Test func nestedCallRunsItsPartsOnTheCallingThread() {
        let outer = Atomic<Int>(0)
        let inner = UnsafeMutablePointer<[Int]>.allocate(capacity: 2)
        inner.initialize(repeating: [], count: 2)
        defer { inner.deinitialize(count: 2); inner.deallocate() }
        let threads = min(2, SpinPool.shared.threads)
        SpinPool.shared.run(jobs: threads) { job in
            #expect(SpinPool.shared.isBusy || threads == 1)
            let me = pthread_self()
            var sameThread = true
            inner[job] = Self.counts(parts: 5) { parts, body in
                SpinPool.shared.run(jobs: parts) { part in
                    if pthread_equal(pthread_self(), me) == 0 { sameThread = false }
                    body(part)
                }
            }
            #expect(sameThread || threads == 1)
            outer.add(1, ordering: .relaxed)
        }
        #expect(outer.load(ordering: .relaxed) == threads)
        for job in 0..<threads { #expect(inner[job] == [1, 1, 1, 1, 1]) }
    }

    @Test func callFromAnotherThreadWhileBusy() {
        // One thread holds the pool in a job while another posts: the second must finish (its
        // parts in turn, or on the pool once free), never hang or lose a part.
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holder = Thread {
            SpinPool.shared.run(jobs: 2) { job in
                if job == 0 { started.signal(); release.wait() }
            }
        }
        holder.start()
        started.wait()
        let ran = Self.counts(parts: 4) { SpinPool.shared.run(jobs: $0, $1) }
        release.signal()
        #expect(ran == [1, 1, 1, 1])
    }

    @Test func workersThatSleepAtOnceStillTakeTheirParts() {
        // With no spinning every call finds the workers asleep (or going to sleep): each must be
        // woken and run its part; then a long limit, as lf-train sets, and back to the default.
        let pool = SpinPool.shared
        let before = pool.spinNanoseconds
        defer { pool.spinNanoseconds = before }
        for limit: UInt64 in [0, 2_000_000] {
            pool.spinNanoseconds = limit
            #expect(pool.spinNanoseconds == limit)
            for call in 0..<200 {
                if call % 20 == 0 { usleep(500) }  // long enough for a worker with no spin to sleep
                let ran = Self.counts(parts: 2) { pool.run(jobs: $0, $1) }
                #expect(ran == [1, 1])
            }
        }
    }
}
