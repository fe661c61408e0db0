// swift-tools-version:6.0
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "drophook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drophook", targets: ["drophook"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C edges: system libraries, wrapped by small Swift files that own the unsafe code.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        .systemLibrary(
            name: "CNats",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // Linux calls the Glibc module does not export (leases, statfs, pipe2, SCM_CREDENTIALS).
        .target(name: "CLinux"),

        // Pipeline stages.
        .target(
            name: "DrophookEvents",
            dependencies: ["CLibCrypto"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookWatch",
            dependencies: [
                "CLinux",
                "DrophookEvents",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookSessions",
            dependencies: [
                "CLinux",
                "CSystemd",
                "DrophookEvents",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // NATS JetStream through libnats: publish with a message id, wait for the stream's ack.
        .target(
            name: "DrophookNATS",
            dependencies: ["CNats", "DrophookEvents", "DrophookDelivery"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookOutbox",
            dependencies: [
                "DrophookEvents",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookDelivery",
            dependencies: [
                "CCurl",
                "DrophookEvents",
                "DrophookOutbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookReceiver",
            dependencies: [
                "DrophookEvents",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "DrophookAgent",
            dependencies: [
                "CLinux",
                "DrophookEvents",
                "DrophookWatch",
                "DrophookSessions",
                "DrophookOutbox",
                "DrophookDelivery",
                "DrophookNATS",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "drophook",
            dependencies: [
                "DrophookAgent",
                "DrophookReceiver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // libFuzzer targets over the parsers and encoders that take outside bytes (fuzz/run
        // builds it with -sanitize=fuzzer,address; a plain build only prints how to use it).
        .executableTarget(
            name: "drophook-fuzz",
            dependencies: ["DrophookAgent", "DrophookEvents", "DrophookSessions", "DrophookWatch"],
            swiftSettings: strictSwift
        ),

        .executableTarget(
            name: "drophook-bench",
            dependencies: [
                "DrophookEvents",
                "DrophookNATS",
                "DrophookSessions",
                "DrophookWatch",
                "DrophookOutbox",
                "DrophookDelivery",
                "DrophookReceiver",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        .testTarget(name: "DrophookEventsTests", dependencies: ["DrophookEvents"], swiftSettings: strictSwift),
        // Real servers and child processes the test suites share (sshd, sftp clients).
        .target(
            name: "DrophookTestSupport",
            dependencies: ["CNats", "DrophookEvents", .product(name: "Logging", package: "swift-log")],
            path: "Tests/DrophookTestSupport", swiftSettings: strictSwift),
        .testTarget(name: "DrophookWatchTests", dependencies: ["DrophookWatch", "DrophookTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "DrophookSessionsTests",
            dependencies: ["DrophookSessions", "DrophookTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "DrophookReceiverTests", dependencies: ["DrophookReceiver", "DrophookTestSupport"], swiftSettings: strictSwift),
        .testTarget(name: "DrophookNATSTests", dependencies: ["DrophookNATS", "CNats", "DrophookTestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "DrophookOutboxTests",
            dependencies: ["DrophookOutbox", .product(name: "GRDB", package: "GRDB.swift")],
            // Outbox files older releases wrote, opened in place by path (not bundled resources).
            exclude: ["Fixtures"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "DrophookDeliveryTests",
            dependencies: ["DrophookDelivery", "DrophookReceiver", "DrophookTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "DrophookAgentTests",
            dependencies: [
                "DrophookAgent", "DrophookNATS", "DrophookReceiver", "DrophookTestSupport", "drophook",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
    ]
)
