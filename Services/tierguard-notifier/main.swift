import Foundation
import Postgres
import ServiceKit
import TierGuardStore

/// tierguard-notifier: Turns alerts into messages to relationship managers (WeCom, webhook, SMS, mail).
///
/// This build connects, migrates, serves /livez, /readyz and /metrics and waits for SIGTERM; its
/// queue handlers are not in this build yet (see the README's status table).
let bootstrap = ServiceBootstrap.parse(
    service: "tierguard-notifier", version: "0.1.0", abstract: "Turns alerts into messages to relationship managers (WeCom, webhook, SMS, mail)", variables: [])
let connection = await bootstrap.connectAndMigrate()
let server = bootstrap.startHTTP(readiness: bootstrap.readinessCheck(connection))
await bootstrap.waitForShutdownSignal()
server.stop()
await connection.close()
ExitCode.success.exit()
