import Foundation
import Postgres

/// An HTTP SMS gateway in the shape of a template API: POST JSON `{"phone_numbers":…,"sign_name":…,
/// "template_code":…,"template_param":"<JSON object as a string>"}`, answer `{"code":"OK",…}`.
///
/// Only the customer-facing messages the policy allows (`SMSPolicy`: the birthday greeting) go out
/// here, never to a customer with `marketing_opt_out` and never in quiet hours — `AlertNotifier`
/// checks both before calling `send`, and records `suppressed` (opt_out / quiet_hours) instead.
/// HTTP 2xx with code OK = delivered; 429/5xx/transport = retry; anything else = failed.
public struct SMSChannel: NotificationChannel {
    public let kind = ChannelKind.sms
    public let gatewayURL: String
    public let signName: String
    public let client: NotifyHTTPClient

    public init(gatewayURL: String, signName: String, client: NotifyHTTPClient) {
        self.gatewayURL = gatewayURL
        self.signName = signName
        self.client = client
    }

    /// `OutgoingMessage.type` carries the template code; `templateParams` its values.
    public func send(_ message: OutgoingMessage, session: PostgresSession) -> [DeliveryAttempt] {
        struct Payload: Encodable {
            var phone_numbers: String
            var sign_name: String
            var template_code: String
            var template_param: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let params = (try? encoder.encode(message.templateParams)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        guard let body = try? [UInt8](encoder.encode(Payload(phone_numbers: message.target, sign_name: signName,
                                                                template_code: message.type, template_param: params))) else {
            return [DeliveryAttempt(outcome: .failed, excerpt: "cannot encode")]
        }
        let started = monotonicSeconds()
        let reply = client.send(method: "POST", url: gatewayURL, headers: [("Content-Type", "application/json")], body: body)
        var attempt = HTTPOutcome.classify(reply, durationMs: Int((monotonicSeconds() - started) * 1000))
        if attempt.outcome == .delivered, case .response(_, let answer) = reply {
            struct Reply: Decodable { var code: String? }
            let code = (try? JSONDecoder().decode(Reply.self, from: Data(answer)))?.code
            if code != "OK" { attempt.outcome = .failed; attempt.excerpt = "gateway code \(code ?? "none")" }
        }
        return [attempt]
    }
}

/// Which customer-facing SMS the policy allows: only these template kinds.
public enum SMSPolicy {
    public static let allowedKinds: Set<String> = ["birthday_greeting"]
}
