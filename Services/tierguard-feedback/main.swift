import Foundation
import Postgres
import ServiceKit
import TierGuardStore

/// tierguard-feedback: Collects surveys, complaints and visit outcomes and feeds them back into scoring.
///
/// This build connects, migrates, serves /livez, /readyz and /metrics and waits for SIGTERM; its
/// queue handlers are not in this build yet (see the README's status table).
let bootstrap = ServiceBootstrap.parse(
    service: "tierguard-feedback", version: "0.1.0", abstract: "Collects surveys, complaints and visit outcomes and feeds them back into scoring", variables: [])
let connection = await bootstrap.connectAndMigrate()
let server = bootstrap.startHTTP(readiness: bootstrap.readinessCheck(connection))
await bootstrap.waitForShutdownSignal()
server.stop()
await connection.close()
ExitCode.success.exit()
