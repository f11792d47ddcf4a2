// Writing behind: a file's full buffers handed to a thread of its own, which writes them while the producer fills the
// next one. The buffers go back and forth (a few of them, reused), so nothing is allocated or freed per buffer and
// no memory crosses threads except whole buffers under the lock.
//
// Invariants: the producer touches a buffer only while it holds it (before `submit`, or after taking a free one);
// the writer thread touches only the buffer it took from the queue, and the file only between `start` and the end of
// `finish` (the producer touches the file only after `finish` returned). Bounded: at most `depth` buffers wait; the
// producer waits past that. The first write error is kept, stops the writing, and is thrown to the producer.
//
// Unsafe code: the mutex and condition are allocated once, initialised in `init` and destroyed and freed in
// `deinit`; the writer thread holds a retained reference to this object (`Unmanaged.passRetained`) that it
// releases when it ends, so the object outlives the thread.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

final class WriteBehind: @unchecked Sendable {
    private let file: OutputFile
    private let depth: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var queue: [[UInt8]] = []
    private var free: [[UInt8]] = []
    private var failure: CaptureError?
    private var closing = false
    private var done = false
    private var thread: pthread_t?

    init(file: OutputFile, depth: Int = 4) {
        self.file = file
        self.depth = depth
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Starts the writing thread; false when it could not be made (the caller then writes itself).
    func start() -> Bool {
        let box = Unmanaged.passRetained(self)
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<WriteBehind>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            }, box.toOpaque())
        guard created == 0 else {
            box.release()
            return false
        }
        thread = handle
        return true
    }

    /// Hands `buffer` over to be written and gives back an empty one (with its capacity) in its place; throws the
    /// writer's error once there is one.
    func submit(_ buffer: inout [UInt8]) throws {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while queue.count >= depth, failure == nil { pthread_cond_wait(changed, mutex) }
        if let failure { throw failure }
        var next = free.popLast() ?? []
        next.removeAll(keepingCapacity: true)
        swap(&next, &buffer)
        queue.append(next)
        pthread_cond_broadcast(changed)
    }

    /// Waits until everything handed over is written, stops the thread, and throws the first error.
    func finish() throws {
        pthread_mutex_lock(mutex)
        closing = true
        pthread_cond_broadcast(changed)
        while !done { pthread_cond_wait(changed, mutex) }
        let failure = self.failure
        pthread_mutex_unlock(mutex)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        if let failure { throw failure }
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            while queue.isEmpty, !closing { pthread_cond_wait(changed, mutex) }
            guard !queue.isEmpty else { break }
            var buffer = queue.removeFirst()
            let failed = failure != nil
            pthread_mutex_unlock(mutex)
            var error: CaptureError?
            if !failed {
                do {
                    try file.write(buffer)
                } catch let caught as CaptureError {
                    error = caught
                } catch {
                    // OutputFile throws CaptureError only.
                }
            }
            buffer.removeAll(keepingCapacity: true)
            pthread_mutex_lock(mutex)
            if let error, failure == nil { failure = error }
            free.append(buffer)
            pthread_cond_broadcast(changed)
        }
        done = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}
