import FeedContract
import Foundation
import SampleFeed
import Testing
import TierGuardModel

/// Proves the scenarios are real: the pure scoring model, run on the generated records, finds for
/// every customer exactly what `scenarios.json` says.
@Suite struct ScenarioTests {
    func verify(_ feed: GeneratedFeed) {
        let bd = feed.businessDate
        var seen = 0
        for (scenario, expected) in feed.manifest.allExpectations {
            seen += 1
            let id = expected.customerId
            guard let customer = feed.customers[id] else { Issue.record("\(scenario) \(id) missing"); continue }
            let (assessment, signals) = feed.judge(id)
            let what = "\(scenario) \(id)"
            #expect(assessment.tier.code == expected.tier, "\(what): tier \(assessment.tier.code), months \(assessment.completeMonths.map(\.average))")
            #expect(assessment.isProvisional == expected.provisional, "\(what)")
            #expect((assessment.warning != nil) == expected.downgradeRisk, "\(what): warning \(String(describing: assessment.warning?.date))")
            if let downgrade = expected.downgrade, let warning = assessment.warning {
                #expect(warning.date.description == downgrade.effectiveOn, "\(what)")
                #expect(warning.fromTier.code == downgrade.fromTier && warning.toTier.code == downgrade.toTier, "\(what)")
                #expect(warning.date > bd && warning.date <= bd.adding(days: 45))
            }
            #expect(signals.map(\.code.rawValue) == expected.signals, "\(what): \(signals.map(\.reason))")
            if let maturing = expected.maturingAccounts {
                #expect(signals.first { $0.code == .maturityUpcoming }?.accounts == maturing, "\(what)")
            }
            #expect(customer.marketingOptOut == expected.marketingOptOut, "\(what)")
            #expect(customer.rmId == expected.rmId)
            // Birthdays: the scenario's birthday is in the coming week; nobody else's is.
            let birth: CalendarDate? = customer.birthDate ?? (customer.idType == .residentId ? residentBirth(customer.idNumber) : nil)
            if let birth {
                let next = nextBirthday(birth, after: bd)
                if let on = expected.birthdayOn {
                    #expect(next.description == on, "\(what)")
                    #expect(bd.days(until: next) >= 1 && bd.days(until: next) <= 7)
                } else {
                    #expect(bd.days(until: next) > 7, "\(what) has a birthday on \(next)")
                }
            } else {
                #expect(expected.birthdayOn == nil)
            }
        }
        #expect(seen == feed.manifest.customerCount, "every customer has an expectation")
    }

    func residentBirth(_ id: String) -> CalendarDate? {
        if case .success(let birth) = ResidentIDNumber.validate(id) { return birth }
        return nil
    }

    func nextBirthday(_ birth: CalendarDate, after bd: CalendarDate) -> CalendarDate {
        for year in [bd.year, bd.year + 1] {
            let day = CalendarDate(year: year, month: birth.month, day: birth.day) ?? CalendarDate(year: year, month: 3, day: 1)!
            if day > bd { return day }
        }
        fatalError("unreachable")
    }

    @Test func defaultBusinessDateScenariosHoldForEveryCustomer() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 120, seed: 42))
        defer { feed.remove() }
        #expect(feed.manifest.skippedScenarios.isEmpty)
        #expect(feed.manifest.businessDate == "2026-11-30")
        // The drift downgrade with 90 days to 2026-11-30: Oct, Nov and the projected Dec below the floor.
        let drift = feed.manifest.scenarios.first { $0.name == "aum_drift_to_lower_tier" }
        #expect(drift?.customers.first?.downgrade?.effectiveOn == "2027-01-01")
        #expect(Set(feed.manifest.scenarios.map(\.name)) == Set(SampleScenario.allCases.map(\.rawValue)))
        verify(feed)
    }

    @Test func midMonthBusinessDateWithLongerHistory() throws {
        // 120 days to 2026-11-15: Aug, Sep, Oct complete; the drift window is Sep, Oct, Nov → 2026-12-01.
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 60, days: 120, seed: 7,
                                                       businessDate: CalendarDate(year: 2026, month: 11, day: 15)!))
        defer { feed.remove() }
        let drift = feed.manifest.scenarios.first { $0.name == "aum_drift_to_lower_tier" }
        #expect(drift?.customers.first?.downgrade?.effectiveOn == "2026-12-01")
        verify(feed)
    }

    @Test func shortHistoryAtStartOfMonthSkipsOnlyTheDrift() throws {
        // 62 days to 2027-03-01: no complete month before a three-month window, so no drift.
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 40, days: 62, seed: 8,
                                                       businessDate: CalendarDate(year: 2027, month: 3, day: 1)!))
        defer { feed.remove() }
        #expect(feed.manifest.skippedScenarios.map(\.name) == ["aum_drift_to_lower_tier"])
        verify(feed)
    }

    @Test func tinyFeedFillsScenariosInPriorityOrder() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 8, seed: 4))
        defer { feed.remove() }
        let names = Set(feed.manifest.scenarios.map(\.name))
        #expect(names == ["steady_standard", "steady_gold", "steady_platinum", "steady_diamond", "steady_private",
                          "aum_drift_to_lower_tier", "outflow_to_competitor", "maturity_upcoming"])
        #expect(feed.manifest.skippedScenarios.count == 6)
        verify(feed)
    }

    @Test func routingCasesAreInTheFeed() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 150, seed: 12))
        defer { feed.remove() }
        let routing = feed.manifest.routing
        #expect(feed.managers.count == 1 + 3)
        #expect(routing.inactiveRmIds.count == 1)
        for id in routing.inactiveRmIds { #expect(feed.managers[id]?.active == false) }
        #expect(!routing.customersOfInactiveRms.isEmpty)
        for id in routing.customersOfInactiveRms { #expect(routing.inactiveRmIds.contains(feed.customers[id]!.rmId)) }
        #expect(routing.unknownRmIds == ["RM9999"] && routing.customersWithUnknownRm.count == 1)
        #expect(feed.managers["RM9999"] == nil)
        #expect(feed.customers[routing.customersWithUnknownRm[0]]?.rmId == "RM9999")
        // Every customer's RM (but the unknown one) exists; every manager chain ends at RM0000.
        for customer in feed.customers.values where customer.rmId != "RM9999" { #expect(feed.managers[customer.rmId] != nil) }
        for rm in feed.managers.values {
            var current = rm
            var hops = 0
            while let up = current.managerRmId, hops < 5 { current = feed.managers[up]!; hops += 1 }
            #expect(current.rmId == "RM0000")
        }
        // Realistic names: compound surnames and `·` names appear across a larger feed.
        let names = feed.customers.values.map(\.name) + feed.managers.values.map(\.name)
        #expect(names.allSatisfy { !$0.isEmpty && $0.count <= 12 })
    }

    @Test func namesIncludeCompoundSurnamesAndDottedNames() throws {
        let feed = try GeneratedFeed(SampleFeedOptions(customers: 300, days: 62, seed: 13, invalidPerMille: 0))
        defer { feed.remove() }
        let names = feed.customers.values.map(\.name)
        #expect(names.contains { $0.contains("·") })
        #expect(names.contains { ["欧阳", "司马", "上官", "诸葛"].contains(String($0.prefix(2))) })
        #expect(feed.customers.values.contains { $0.idType == .passport })
        // Balances before their account: at least one balance line precedes its account line.
        var accountLine: [String: Int] = [:]
        var firstBalance: [String: Int] = [:]
        for item in feed.items["feed.ndjson"]! {
            switch item {
            case .record(.account(let a), let line): accountLine[a.accountId] = line
            case .record(.balance(let b), let line): firstBalance[b.accountId] = min(firstBalance[b.accountId] ?? line, line)
            default: break
            }
        }
        let early = accountLine.filter { id, line in (firstBalance[id] ?? Int.max) < line }
        #expect(!early.isEmpty)
    }
}
