import DrophookEvents

/// The files of one directory that were reported (or recorded at start-up) and have been quiet
/// since, kept as compact records instead of a ``TreeNode`` each.
///
/// Why: drop trees are often never emptied, and a node per file (an object, its weak parent
/// reference, its entry in the parent's dictionary and in the inode map) costs about 360 bytes;
/// a million kept files held 350 MiB. Here a file is one 40-byte ``Entry`` plus its name bytes
/// in a shared buffer. Entries stay sorted by name bytes and are found by binary search. Files
/// added since the last merge wait in a small dictionary, merged in bulk once it grows past an
/// eighth of the sorted part, so adding a directory's files one by one stays linear. A taken
/// entry is only marked dead; the sorted part is rebuilt when half of it is dead.
struct IdleFiles {
    /// What is kept of an idle file: enough to report its deletion or rename and to tell whether
    /// a scan finds it changed. Its device is its directory's.
    struct File: Equatable {
        var isSymlink: Bool
        var inode: UInt64
        var size: Int64
        var mtimeNanos: Int64
        var uid: UInt32
    }

    /// One sorted record; 40 bytes.
    private struct Entry {
        var inode: UInt64
        var size: Int64
        var mtimeNanos: Int64
        var nameStart: UInt32
        var uid: UInt32
        /// Escaped names (``PathBytes``) can be longer than `NAME_MAX` bytes.
        var nameLength: UInt16
        var state: State

        enum State: UInt8 { case file, symlink, taken }

        var file: File {
            File(isSymlink: state == .symlink, inode: inode, size: size, mtimeNanos: mtimeNanos, uid: uid)
        }
    }

    private var names: [UInt8] = []
    private var sorted: [Entry] = []
    private var takenCount = 0
    /// Keyed by bytes (``ExactText``), like every name.
    private var recent: [ExactText: File] = [:]

    /// How many idle files are kept.
    var count: Int { sorted.count - takenCount + recent.count }

    var isEmpty: Bool { count == 0 }

    /// Keeps `file` under `name`, replacing what was kept under that name.
    mutating func keep(_ name: String, _ file: File) {
        if let index = sortedIndex(of: name) {
            sorted[index].state = .taken
            takenCount += 1
        }
        recent[ExactText(name)] = file
        if recent.count > max(32, sorted.count / 8) { merge() }
    }

    /// The file kept under `name`, left in place.
    func file(named name: String) -> File? {
        if let file = recent[ExactText(name)] { return file }
        return sortedIndex(of: name).map { sorted[$0].file }
    }

    func contains(_ name: String) -> Bool { file(named: name) != nil }

    /// Removes and returns the file kept under `name`.
    mutating func take(_ name: String) -> File? {
        if let file = recent.removeValue(forKey: ExactText(name)) { return file }
        guard let index = sortedIndex(of: name) else { return nil }
        let file = sorted[index].file
        sorted[index].state = .taken
        takenCount += 1
        if takenCount * 2 > sorted.count { merge() }
        return file
    }

    /// Removes and returns every kept file, in name-byte order.
    mutating func takeAll() -> [(name: String, file: File)] {
        merge()
        let all = sorted.map { (name: name(of: $0), file: $0.file) }
        self = IdleFiles()
        return all
    }

    /// The names of every kept file.
    var allNames: [String] {
        sorted.filter { $0.state != .taken }.map { name(of: $0) } + recent.keys.map(\.text)
    }

    /// Folds `recent` into the sorted part and drops taken entries, with exact capacities so a
    /// large directory keeps no growth slack.
    private mutating func merge() {
        let incoming = recent.map { (key: $0.key.text, value: $0.value) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        let liveCount = sorted.count - takenCount
        var mergedNames: [UInt8] = []
        var merged: [Entry] = []
        mergedNames.reserveCapacity(names.count + incoming.reduce(0) { $0 + $1.key.utf8.count })
        merged.reserveCapacity(liveCount + incoming.count)
        func append(_ entry: Entry, name: some Collection<UInt8>) {
            var entry = entry
            entry.nameStart = UInt32(mergedNames.count)
            entry.nameLength = UInt16(name.count)
            mergedNames.append(contentsOf: name)
            merged.append(entry)
        }
        // A name in `recent` has no live sorted entry (``keep(_:_:)`` marks it taken), so the
        // two runs never hold the same name.
        var next = incoming.startIndex
        for entry in sorted where entry.state != .taken {
            let bytes = nameBytes(of: entry)
            while next < incoming.endIndex, incoming[next].key.utf8.lexicographicallyPrecedes(bytes) {
                append(Self.entry(incoming[next].value), name: incoming[next].key.utf8)
                next += 1
            }
            append(entry, name: bytes)
        }
        for (name, file) in incoming[next...] { append(Self.entry(file), name: name.utf8) }
        names = mergedNames
        sorted = merged
        takenCount = 0
        recent = [:]
    }

    private static func entry(_ file: File) -> Entry {
        Entry(
            inode: file.inode, size: file.size, mtimeNanos: file.mtimeNanos, nameStart: 0, uid: file.uid,
            nameLength: 0, state: file.isSymlink ? .symlink : .file)
    }

    private func nameBytes(of entry: Entry) -> ArraySlice<UInt8> {
        let start = Int(entry.nameStart)
        return names[start..<start + Int(entry.nameLength)]
    }

    private func name(of entry: Entry) -> String {
        // The bytes came from a `String`, so they are valid UTF-8 and decode to the same text.
        String(decoding: nameBytes(of: entry), as: UTF8.self)
    }

    /// The index of the live sorted entry named `name`, by binary search over the name bytes.
    private func sortedIndex(of name: String) -> Int? {
        guard !sorted.isEmpty else { return nil }
        var name = name
        return name.withUTF8 { key in
            names.withUnsafeBufferPointer { buffer in
                var low = 0
                var high = sorted.count
                while low < high {
                    let middle = low + (high - low) / 2
                    let entry = sorted[middle]
                    let start = Int(entry.nameStart)
                    let stored = UnsafeBufferPointer(rebasing: buffer[start..<start + Int(entry.nameLength)])
                    if stored.lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
                }
                guard low < sorted.count, sorted[low].state != .taken else { return nil }
                let entry = sorted[low]
                let start = Int(entry.nameStart)
                return UnsafeBufferPointer(rebasing: buffer[start..<start + Int(entry.nameLength)]).elementsEqual(key)
                    ? low : nil
            }
        }
    }
}
