import DrophookEvents
import Foundation
import Glibc
import Testing

@testable import DrophookWatch

/// Every name the kernel allows is reported, with its exact bytes, whether it arrives live, in a
/// new directory's listing, or at catch-up.
@Suite("File names as the kernel has them")
struct FileNameTests {
    /// `report\xff.csv`, as an old Windows client in Latin-1 sends it.
    static let latin1: [UInt8] = Array("report".utf8) + [0xFF] + Array(".csv".utf8)
    /// A directory named in Latin-1 (`r\xe9sum\xe9`), holding valid names.
    static let latin1Directory: [UInt8] = [0x72, 0xE9, 0x73, 0x75, 0x6D, 0xE9]

    @Test func namesThatAreNotUTF8AreReportedWithTheirBytes() async throws {
        let tree = TempTree("names")
        let harness = try await WatchHarness.start(.test(tree))
        // Live: the file's own records.
        tree.writeRaw(Self.latin1, "abc")
        // A directory with such a name, and a valid name inside it.
        tree.mkdirRaw(Self.latin1Directory)
        tree.writeRaw(Self.latin1Directory + Array("/inside.txt".utf8), "1234")
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        let directory = PathBytes.string(from: Self.latin1Directory)
        #expect(await harness.waitFor(.created, directory + "/inside.txt"))
        await harness.stop()

        let created = harness.events.filter { $0.kind == .created }
        let file = try #require(created.first { PathBytes.bytes($0.path) == Self.latin1 })
        #expect(file.size == 3)
        #expect(created.contains { $0.isDirectory && PathBytes.bytes($0.path) == Self.latin1Directory })
        #expect(created.first { $0.path == directory + "/inside.txt" }?.size == 4)
        #expect(created.count == 4)
        // A restart from this snapshot reports nothing: the stored names match the disk.
        let restarted = try await WatchHarness.start(.test(tree), snapshot: harness.snapshot)
        tree.write("marker2", "")
        #expect(await restarted.waitFor(.created, "marker2"))
        await restarted.stop()
        #expect(restarted.events.map(\.path) == ["marker2"])
    }

    /// A macOS client uploads `café.csv` decomposed (e + U+0301) next to a composed one: Swift
    /// calls the two names equal, Linux keeps two files, and so must every event.
    @Test func composedAndDecomposedSpellingsAreTwoFiles() async throws {
        let tree = TempTree("nfc-nfd")
        let harness = try await WatchHarness.start(.test(tree))
        let composed = "caf\u{E9}.csv"
        let decomposed = "cafe\u{301}.csv"
        tree.writeRaw(Array(composed.utf8), "nfc")
        tree.writeRaw(Array(decomposed.utf8), "nfd!")
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        // Quiet files are kept compact at the next tick (the test configuration): delete both then.
        #expect(PathBytes.withCString(decomposed) { unlink(tree.at("") + String(cString: $0)) } == 0)
        tree.write("marker2", "")
        #expect(await harness.waitFor(.created, "marker2"))
        await harness.stop()
        let seen = harness.events.filter { $0.path.hasPrefix("caf") }.map {
            "\($0.kind) \(Array($0.path.utf8)) \($0.size.map(String.init) ?? "-")"
        }
        #expect(
            seen.sorted()
                == [
                    "created \(Array(composed.utf8)) 3", "created \(Array(decomposed.utf8)) 4", "deleted \(Array(decomposed.utf8)) -",
                ].sorted())
        let kept = harness.snapshot.filter { $0.path.hasPrefix("caf") }.map { Array($0.path.utf8) }
        #expect(kept == [Array(composed.utf8)])
    }

    @Test func oddButValidNamesAndLongPathsRoundTrip() async throws {
        let tree = TempTree("odd-names")
        let harness = try await WatchHarness.start(.test(tree))
        let names = [
            "tab\tnew\nline\r.csv", "esc\u{1B}]52;c;aGk=\u{07}.txt", "quote\"back\\slash%41%.csv",
            "rtl\u{202E}gpj.exe", String(repeating: "n", count: 255), "a\u{FFFD}FF.csv",
        ]
        for name in names { tree.writeRaw(Array(name.utf8), "x") }
        // A path near PATH_MAX: 15 levels of 250-byte names under the temp root (about 3,800 bytes).
        let level = String(repeating: "d", count: 250)
        var deep = ""
        for _ in 0..<15 {
            deep = deep.isEmpty ? level : deep + "/" + level
            #expect(Glibc.mkdir(tree.at(deep), 0o755) == 0)
        }
        tree.write(deep + "/end.txt", "deep")
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        #expect(await harness.waitFor(.created, deep + "/end.txt"))
        await harness.stop()
        // Compared as bytes: a literal U+FFFD in a name is kept escaped inside the agent.
        let created = Set(harness.events.filter { $0.kind == .created && !$0.isDirectory }.map { PathBytes.bytes($0.path) })
        #expect(created == Set((names + [deep + "/end.txt", "marker"]).map { Array($0.utf8) }))
        #expect(harness.events.first { $0.path == deep + "/end.txt" }?.size == 4)
        #expect(tree.at(deep + "/end.txt").utf8.count > 3_800)
    }
}

extension TempTree {
    /// Writes a file whose relative path is given as raw bytes (not necessarily UTF-8).
    func writeRaw(_ relative: [UInt8], _ text: String) {
        let fd = withRawPath(relative) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0, "cannot write \(relative): \(errno)")
        let bytes = Array(text.utf8)
        precondition(Glibc.write(fd, bytes, bytes.count) == bytes.count)
        close(fd)
    }

    func mkdirRaw(_ relative: [UInt8]) {
        precondition(withRawPath(relative) { Glibc.mkdir($0, 0o755) } == 0)
    }

    private func withRawPath<Result>(_ relative: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        let bytes = Array((path + "/").utf8) + relative + [0]
        return bytes.map { CChar(bitPattern: $0) }.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

@Suite("Checksums of finished files")
struct ChecksumTests {
    @Test("sha256: true sends the SHA-256 of what was closed; over the limit, none")
    func checksumOfFinishedFiles() async throws {
        let tree = TempTree("checksums")
        var configuration = WatcherConfiguration.test(tree)
        configuration.watches[0].checksumLimit = 64
        let harness = try await WatchHarness.start(configuration)
        tree.write("small.txt", "hello drophook\n")
        tree.write("large.bin", String(repeating: "x", count: 65))
        tree.write("marker", "")
        #expect(await harness.waitFor(.created, "marker"))
        await harness.stop()
        let sums = Dictionary(uniqueKeysWithValues: harness.events.map { ($0.path, $0.sha256 ?? "none") })
        // `printf 'hello drophook\n' | sha256sum`
        #expect(sums["small.txt"] == "d47b93468c67471a4c5d762d1ee9beb2eef970a2fcd6007425e70ed5ef440c21")
        #expect(sums["large.bin"] == "none", "65 bytes is over the 64-byte limit")
        #expect(sums["marker"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "the empty file's SHA-256")
    }

    /// A checksum is read off the watch thread, a slice of each file in turn: a large file's
    /// checksum does not hold back the next file's event.
    @Test("a 1-byte file closed right after a 128 MiB one is reported first, each with its own checksum")
    func smallFileIsNotHeldBackByALargeChecksum() async throws {
        let tree = TempTree("checksum-stall")
        var configuration = WatcherConfiguration.test(tree)
        configuration.watches[0].checksumLimit = 256 << 20
        let harness = try await WatchHarness.start(configuration)
        tree.write("large.bin", String(repeating: "x", count: 128 << 20))
        tree.write("small.txt", "hello drophook\n")
        #expect(await harness.waitFor(.created, "large.bin", within: .seconds(60)))
        await harness.stop()
        let created = harness.events.filter { $0.kind == .created }
        #expect(created.map(\.path) == ["small.txt", "large.bin"])
        #expect(created.first?.sha256 == "d47b93468c67471a4c5d762d1ee9beb2eef970a2fcd6007425e70ed5ef440c21")
        let large = try #require(FileStatus.of(path: tree.at("large.bin")))
        #expect(created.last?.sha256 == FileChecksum.sha256(path: tree.at("large.bin"), expected: large, limit: 256 << 20))
        #expect(created.last?.sha256 != nil)
    }
}
