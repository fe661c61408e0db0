#if FUZZING
    import Glibc

    /// The target chosen by `DROPHOOK_FUZZ_TARGET`, read once.
    private let target: FuzzTarget = {
        let name = getenv("DROPHOOK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let message = Array("set DROPHOOK_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8)
            _ = write(2, message, message.count)
            exit(2)
        }
        return target
    }()

    /// libFuzzer's entry point: one input per call.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }

    /// libFuzzer's driver, called by the program's `main`.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The program's `main`: SwiftPM links an executable's entry point under this name, so the
    /// fuzzer's own `main` is not used and the driver is called from here instead.
    @_cdecl("drophook_fuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var arguments = argv
        return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
    }
#else
    /// Built without `-sanitize=fuzzer` (a plain `swift build`): says how to fuzz instead.
    @main
    struct FuzzUsage {
        static func main() {
            print(
                "drophook-fuzz runs under libFuzzer: use fuzz/run [TARGET] [SECONDS] (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
    }
#endif
