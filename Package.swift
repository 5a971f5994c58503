// swift-tools-version: 6.1
// TierGuard: anti-downgrade early warning for a retail bank's top customers.
// No package dependencies by design: Foundation, Dispatch, Glibc and system C libraries only.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "TierGuard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tierguard-ingest", targets: ["tierguard-ingest"]),
        .executable(name: "tierguard-scorer", targets: ["tierguard-scorer"]),
        .executable(name: "tierguard-notifier", targets: ["tierguard-notifier"]),
        .executable(name: "tierguard-feedback", targets: ["tierguard-feedback"]),
        .executable(name: "tierguardctl", targets: ["tierguardctl"]),
        .executable(name: "tierguard-bench", targets: ["tierguard-bench"]),
        .executable(name: "tierguard-chaos", targets: ["tierguard-chaos"]),
    ],
    targets: [
        // C system libraries: imports nothing.
        .systemLibrary(
            name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CLibCrypto", path: "Shared/CLibCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        // Shared modules, imports flowing one way:
        // Services -> TierGuardStore -> JobQueue -> Postgres -> CLibPQ.
        // TSanVisibleLock: the `Mutex` of -DTIERGUARD_TSAN builds only (deploy/local/tsan.sh); every
        // module using Mutex depends on it and imports it only under that flag (TSanMutexShim.swift).
        .target(name: "TSanVisibleLock", path: "Shared/TSanVisibleLock", swiftSettings: strict),
        .target(
            name: "ServiceKit", dependencies: ["TSanVisibleLock"], path: "Shared/ServiceKit",
            swiftSettings: strict),
        .target(
            name: "Postgres", dependencies: ["CLibPQ", "TSanVisibleLock"], path: "Shared/Postgres",
            swiftSettings: strict),
        .target(
            name: "JobQueue", dependencies: ["Postgres", "ServiceKit", "TSanVisibleLock"], path: "Shared/JobQueue",
            resources: [.copy("SQL")], swiftSettings: strict),
        .target(name: "TierGuardModel", path: "Shared/TierGuardModel", swiftSettings: strict),
        .target(
            name: "PersonalDataVault", dependencies: ["CLibCrypto"], path: "Shared/PersonalDataVault",
            swiftSettings: strict),
        .target(
            name: "FeedContract", dependencies: ["TierGuardModel"], path: "Shared/FeedContract",
            swiftSettings: strict),
        .target(
            name: "SampleFeed", dependencies: ["TierGuardModel", "FeedContract"], path: "Shared/SampleFeed",
            swiftSettings: strict),
        .target(
            name: "TierGuardStore",
            dependencies: ["Postgres", "JobQueue", "TierGuardModel", "FeedContract", "ServiceKit", "CLibCrypto",
                           "PersonalDataVault", "TSanVisibleLock"],
            path: "Shared/TierGuardStore",
            resources: [.copy("Migrations"), .copy("Ingest/SQL")], swiftSettings: strict),

        // Thin executables.
        .executableTarget(
            name: "tierguard-ingest",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "ServiceKit", "FeedContract", "TierGuardModel"],
            path: "Services/tierguard-ingest", swiftSettings: strict),
        .executableTarget(
            name: "tierguard-scorer",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "ServiceKit", "TierGuardModel"],
            path: "Services/tierguard-scorer", swiftSettings: strict),
        .executableTarget(
            name: "tierguard-notifier",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "ServiceKit"],
            path: "Services/tierguard-notifier", swiftSettings: strict),
        .executableTarget(
            name: "tierguard-feedback",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "ServiceKit"],
            path: "Services/tierguard-feedback", swiftSettings: strict),
        .executableTarget(
            name: "tierguardctl",
            dependencies: ["TierGuardStore", "PersonalDataVault", "JobQueue", "Postgres", "ServiceKit", "TierGuardModel", "FeedContract", "SampleFeed"],
            path: "Services/tierguardctl", swiftSettings: strict),
        .executableTarget(
            name: "tierguard-bench",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "ServiceKit", "TierGuardModel", "FeedContract", "SampleFeed",
                           "TSanVisibleLock"],
            path: "Services/tierguard-bench", swiftSettings: strict),
        .executableTarget(
            name: "tierguard-chaos", dependencies: ["JobQueue", "Postgres", "ServiceKit", "TSanVisibleLock"],
            path: "Services/tierguard-chaos", swiftSettings: strict),

        // Tests.
        .target(
            name: "TestSupport", dependencies: ["Postgres", "TSanVisibleLock"], path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "PostgresTests", dependencies: ["Postgres", "TestSupport", "ServiceKit"],
            swiftSettings: strict),
        .testTarget(
            name: "ServiceKitTests", dependencies: ["ServiceKit", "TSanVisibleLock"], exclude: ["Regressions"], swiftSettings: strict),
        .testTarget(
            name: "JobQueueTests", dependencies: ["JobQueue", "Postgres", "TestSupport", "ServiceKit", "TSanVisibleLock"],
            swiftSettings: strict),
        .testTarget(name: "PersonalDataVaultTests", dependencies: ["PersonalDataVault"], swiftSettings: strict),
        .testTarget(
            name: "TierGuardModelTests", dependencies: ["TierGuardModel"], swiftSettings: strict),
        .testTarget(
            name: "FeedContractTests", dependencies: ["FeedContract", "TierGuardModel", "TestSupport"],
            exclude: ["Regressions"], swiftSettings: strict),
        .testTarget(
            name: "SampleFeedTests", dependencies: ["SampleFeed", "TierGuardModel", "FeedContract"],
            swiftSettings: strict),
        .testTarget(
            name: "TierGuardStoreTests",
            dependencies: ["TierGuardStore", "JobQueue", "Postgres", "TestSupport", "TierGuardModel", "FeedContract", "ServiceKit", "SampleFeed",
                           "PersonalDataVault", "TSanVisibleLock"],
            swiftSettings: strict),
        .testTarget(
            name: "ServiceTests", dependencies: ["TestSupport", "Postgres", "ServiceKit", "TSanVisibleLock"],
            swiftSettings: strict),
    ]
)
