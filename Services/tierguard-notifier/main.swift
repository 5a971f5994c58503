import Foundation
import JobQueue
import Postgres
import ServiceKit
import TierGuardModel
import TierGuardStore

/// tierguard-notifier: turns alerts into messages to relationship managers (webhook, WeCom robot,
/// WeCom application, email) and the few customer-facing SMS the policy allows; plans RM tasks.
///
/// Works queue `notifier` with the job queue's `JobWorker`:
/// - `notify_alert` `{"alert_id": N}` (enqueued by the scorer with each new alert): urgent → sent at
///   once (snoozed to 08:00 in quiet hours), otherwise held for the digest (`AlertNotifier.deliver`);
/// - `send_notification` `{"notification_id": N}`: digests, escalations, operator retries;
/// - `send_digests`, periodic at `TIERGUARD_NOTIFY_DIGEST_CRON` (08:30 Asia/Shanghai): `DigestBuilder`;
/// - `rm_tasks_daily`, periodic at `TIERGUARD_NOTIFY_TASKS_CRON` (07:00): `RMTaskPlanner` for the business date;
/// - `birthday_sms`, periodic at `TIERGUARD_NOTIFY_BIRTHDAY_CRON` (09:00, after quiet hours): `BirthdayGreetings`
///   greets today's (Shanghai calendar day) birthdays at 金卡 or above by SMS, once a year, never opted-out ones.
/// A retryable delivery throws (the queue's backoff: attempt⁴ + 15 s, 20 attempts); on the last
/// attempt it is recorded `failed` for `tierguardctl notify failed`. Time rules read the database clock.
let digestCron = ConfigVariable("TIERGUARD_NOTIFY_DIGEST_CRON", default: "30 8 * * *", "cron (Asia/Shanghai) of the morning digest")
let tasksCron = ConfigVariable("TIERGUARD_NOTIFY_TASKS_CRON", default: "0 7 * * *", "cron (Asia/Shanghai) of the daily RM task run")
let birthdayCron = ConfigVariable("TIERGUARD_NOTIFY_BIRTHDAY_CRON", default: "0 9 * * *",
                                  "cron (Asia/Shanghai) of the birthday greeting SMS run (snoozes if it falls in quiet hours)")
let concurrencyVariable = ConfigVariable("TIERGUARD_NOTIFY_CONCURRENCY", default: "8", "deliveries in flight at once")
let bootstrap = ServiceBootstrap.parse(
    service: "tierguard-notifier", version: "0.2.0",
    abstract: "Turns alerts into messages to relationship managers (WeCom, webhook, SMS, mail) and plans RM tasks",
    variables: NotifierConfiguration.configVariables + [digestCron, tasksCron, birthdayCron, concurrencyVariable])
let configuration: NotifierConfiguration
let concurrency: Int
do {
    configuration = try NotifierConfiguration.load(bootstrap.config, urgentKinds: ScoringPolicy.builtIn.urgentAlertKinds)
    concurrency = try bootstrap.config.int(concurrencyVariable.name, in: 1...64)
} catch {
    bootstrap.logger.critical("configuration: \(error)")
    ExitCode.configuration.exit()
}
let connection = await bootstrap.connectAndMigrate()
let server = bootstrap.startHTTP(readiness: bootstrap.readinessCheck(connection))
let notifier = AlertNotifier(configuration: configuration)
let clock = DatabaseNotifyClock()

/// Maps the notifier's outcome to the queue's: snooze stays a snooze; everything else is done.
func jobResult(_ outcome: NotifyOutcome, _ context: JobContext) -> JobResult {
    context.logger.info("notification handled", metadata: ["outcome": "\(outcome)"])
    if case .snooze(let seconds) = outcome { return .snooze(seconds: max(1, seconds)) }
    return .completed
}

var registry = JobRegistry()
registry.register(NotifyJobs.notifyAlert, NotifyJobs.AlertArgs.self) { args, context in
    let final = context.attempt >= context.maxAttempts
    let outcome = try await context.database.withConnection { connection in
        try await connection.withSession { session in
            try notifier.deliver(session: session, alertId: args.alert_id, now: try clock.now(session), finalAttempt: final)
        }
    }
    return jobResult(outcome, context)
}
registry.register(NotifyJobs.sendNotification, NotifyJobs.NotificationArgs.self) { args, context in
    let final = context.attempt >= context.maxAttempts
    let outcome = try await context.database.withConnection { connection in
        try await connection.withSession { session in
            try notifier.send(session: session, notificationId: args.notification_id, finalAttempt: final, now: try clock.now(session))
        }
    }
    return jobResult(outcome, context)
}
registry.register(NotifyJobs.sendDigests) { context in
    let summary = try await context.database.withConnection { connection in
        try await connection.withSession { session in
            try DigestBuilder.build(session: session, policy: configuration.policy,
                                    day: NotifyPolicy.shanghaiDay(try clock.now(session)))
        }
    }
    context.logger.info("digests built", metadata: ["digests": "\(summary.digests)", "included": "\(summary.included)",
                                                    "still_waiting": "\(summary.stillWaiting)"])
    return .completed
}
registry.register(NotifyJobs.rmTasksDaily) { context in
    let summary = try await context.database.withConnection { connection in
        try await connection.withSession { session -> RMTaskPlanner.Summary in
            let now = try clock.now(session)
            let rows = try session.query(PostgresQuery("SELECT tierguard_business_date()::text", name: "notifier.businessDate"))
            let today = try rows[0].decode(String?.self, at: 0).flatMap { CalendarDate($0) } ?? NotifyPolicy.shanghaiDay(now)
            return try RMTaskPlanner.run(session: session, configuration: configuration, today: today, now: now)
        }
    }
    context.logger.info("rm tasks", metadata: ["follow_ups": "\(summary.followUps)", "birthdays": "\(summary.birthdays)",
                                               "maturities": "\(summary.maturities)", "expired": "\(summary.expired)",
                                               "escalations": "\(summary.escalations.count)"])
    return .completed
}

registry.register(NotifyJobs.birthdaySMS) { context in
    let summary = try await context.database.withConnection { connection in
        try await connection.withSession { session in
            try BirthdayGreetings.schedule(session: session, configuration: configuration, now: try clock.now(session))
        }
    }
    if let seconds = summary.snoozeSeconds { return .snooze(seconds: max(1, seconds)) }
    context.logger.info("birthday greetings", metadata: ["scheduled": "\(summary.scheduled)", "refused": "\(summary.refused)",
                                                         "already_done": "\(summary.alreadyDone)"])
    return .completed
}

var workerConfig = bootstrap.workerConfiguration(queue: AlertNotifier.queue)
workerConfig.concurrency = concurrency
workerConfig.handlerConnections = concurrency
// Claim only as many jobs as can be delivered at once (the queue's default is 100 per claim): a delivery
// waits on the network, so jobs held by one replica would wait while the other replicas sit idle.
workerConfig.claimBatchSize = concurrency
do {
    workerConfig.periodicJobs = [
        try PeriodicJob(name: NotifyJobs.sendDigests, cron: try bootstrap.config.string(digestCron.name),
                        job: NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.sendDigests, maxAttempts: 5, uniqueKey: NotifyJobs.sendDigests)),
        try PeriodicJob(name: NotifyJobs.rmTasksDaily, cron: try bootstrap.config.string(tasksCron.name),
                        job: NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.rmTasksDaily, maxAttempts: 5, uniqueKey: NotifyJobs.rmTasksDaily)),
        try PeriodicJob(name: NotifyJobs.birthdaySMS, cron: try bootstrap.config.string(birthdayCron.name),
                        job: NewJob(queue: AlertNotifier.queue, kind: NotifyJobs.birthdaySMS, maxAttempts: 5, uniqueKey: NotifyJobs.birthdaySMS)),
    ]
} catch {
    bootstrap.logger.critical("configuration: \(error)")
    ExitCode.configuration.exit()
}
let worker = JobWorker(configuration: workerConfig, registry: registry, logger: bootstrap.logger, metrics: bootstrap.metrics)
bootstrap.registerQueueGauges(queue: AlertNotifier.queue, connection: connection, maintenanceInterval: workerConfig.maintenanceInterval)
do {
    try await worker.start()
} catch {
    bootstrap.logger.critical("cannot start the worker: \(error)")
    ExitCode.unavailable.exit()
}
await worker.run(until: bootstrap.signals, deadline: .seconds(Int64(bootstrap.drainSeconds)))
server.stop()
await connection.close()
ExitCode.success.exit()
