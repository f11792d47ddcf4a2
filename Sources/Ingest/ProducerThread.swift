// A thread that runs one closure and can be joined.
//
// Unsafe code, and its invariants: the new thread gets a retained reference to this object
// (`Unmanaged.passRetained`), taken back once (`takeRetainedValue`) as its first step, so the object lives as long
// as the thread uses it; `join` is called once.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

final class ProducerThread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    private var thread: pthread_t?

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }

    /// Starts the thread; false when it could not be created.
    func start() -> Bool {
        let box = Unmanaged.passRetained(self)
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                let me = Unmanaged<ProducerThread>.fromOpaque(argument).takeRetainedValue()
                me.body()
                return nil
            }, box.toOpaque())
        guard created == 0 else {
            box.release()
            return false
        }
        thread = handle
        return true
    }

    func join() {
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }
}
