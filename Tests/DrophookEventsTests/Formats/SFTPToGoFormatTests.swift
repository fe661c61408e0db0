import DrophookEvents
import Foundation
import Testing

@Suite("SFTP To Go payloads")
struct SFTPToGoFormatTests {
    let format = SFTPToGoFormat()

    /// The seed's file.created example, in the facts drophook has about it.
    static let createdEvent = FileEvent(
        id: "36cd78bc-0662-43b1-a7aa-0cde4876ab2a",
        kind: .created,
        watch: "uploads",
        path: "dir/file1.txt",
        size: 357_464,
        actor: "4ddb9e1265b8edb7685b4e1a5d129f",
        occurredAtMillis: 1_591_106_805_970
    )

    static let createdContext = DeliveryContext(
        webhookID: "7f3c5b1d-5df4-409f-bbbd-3ac6a72d8b5a",
        deliveryID: "0a4ed750-fbb8-4718-8a6c-86c35c9b6348",
        attemptID: "2cb02803-b3a4-4ccd-bd19-ad769c51b291",
        organizationID: "d57060b1-23fe-2d59-afd0-7f56d9e1fc55",
        pipeID: "pip_1"
    )

    /// The seed's file.created example, minified, keys in the seed's order.
    static let seedCreated =
        #"{"Id":"36cd78bc-0662-43b1-a7aa-0cde4876ab2a","Topic":"file.created","CreatedAt":1591106805970,"UpdatedAt":1591106805970,"Actor":{"Type":"User","Id":"4ddb9e1265b8edb7685b4e1a5d129f"},"Resource":"File","PreviousData":null,"Data":{"Path":"dir/file1.txt","Size":357464},"Metadata":{"Organization":{"Id":"d57060b1-23fe-2d59-afd0-7f56d9e1fc55"},"Webhook":{"Id":"7f3c5b1d-5df4-409f-bbbd-3ac6a72d8b5a"},"Delivery":{"Id":"0a4ed750-fbb8-4718-8a6c-86c35c9b6348"},"Attempt":{"Id":"2cb02803-b3a4-4ccd-bd19-ad769c51b291"},"Event":{"Id":"36cd78bc-0662-43b1-a7aa-0cde4876ab2a","Topic":"file.created"}}}"#

    @Test func fileCreatedMatchesSeedByteForByte() {
        let message = format.message(for: Self.createdEvent, context: Self.createdContext)
        #expect(String(decoding: message.body, as: UTF8.self) == Self.seedCreated)
        #expect(message.headers == [HTTPHeader("Content-Type", "application/json")])
    }

    @Test func fileDeletedMatchesSeedWithNullSize() {
        // The seed's delete was made by an IAM user; drophook's actors are always SFTP users.
        let event = FileEvent(
            id: "f63ad40e-711d-482b-979a-dca97281d8b7", kind: .deleted, watch: "uploads",
            path: "dir/file1.txt", size: 357_464, actor: "AIDAIKEQXZMPCW5OVTUWU",
            occurredAtMillis: 1_591_106_814_353
        )
        let context = DeliveryContext(
            webhookID: "7f3c5b1d-5df4-409f-bbbd-3ac6a72d8b5a",
            deliveryID: "aecd305e-f080-4c87-b40b-6b3d5d0d17db",
            attemptID: "7dc9f0dc-06ad-4585-a9fd-5ac36d73f817",
            organizationID: "d57060b1-23fe-2d59-afd0-7f56d9e1fc55",
            pipeID: "pip_1"
        )
        let expected =
            #"{"Id":"f63ad40e-711d-482b-979a-dca97281d8b7","Topic":"file.deleted","CreatedAt":1591106814353,"UpdatedAt":1591106814353,"Actor":{"Type":"User","Id":"AIDAIKEQXZMPCW5OVTUWU"},"Resource":"File","PreviousData":null,"Data":{"Path":"dir/file1.txt","Size":null},"Metadata":{"Organization":{"Id":"d57060b1-23fe-2d59-afd0-7f56d9e1fc55"},"Webhook":{"Id":"7f3c5b1d-5df4-409f-bbbd-3ac6a72d8b5a"},"Delivery":{"Id":"aecd305e-f080-4c87-b40b-6b3d5d0d17db"},"Attempt":{"Id":"7dc9f0dc-06ad-4585-a9fd-5ac36d73f817"},"Event":{"Id":"f63ad40e-711d-482b-979a-dca97281d8b7","Topic":"file.deleted"}}}"#
        #expect(String(decoding: format.message(for: event, context: context).body, as: UTF8.self) == expected)
    }

    @Test func directoryPathEndsWithSlashAndHasNullSize() {
        var event = Self.createdEvent
        event.path = "dir"
        event.isDirectory = true
        event.size = 4096
        let expected = Self.seedCreated.replacingOccurrences(
            of: #""Path":"dir/file1.txt","Size":357464"#, with: #""Path":"dir/","Size":null"#)
        #expect(expected != Self.seedCreated)
        #expect(String(decoding: format.message(for: event, context: Self.createdContext).body, as: UTF8.self) == expected)
    }

    @Test func organizationIsOmittedWithoutAnID() throws {
        var context = Self.createdContext
        context.organizationID = nil
        let body = try JSONValue(parsing: format.message(for: Self.createdEvent, context: context).body)
        guard case .object(let metadata)? = body["Metadata"] else {
            Issue.record("Metadata is not an object")
            return
        }
        #expect(metadata.map(\.0) == ["Webhook", "Delivery", "Attempt", "Event"])
    }

    @Test func scanFoundEventsCarryFoundByScanLastInData() throws {
        var event = Self.createdEvent
        event.foundByScan = true
        let body = try JSONValue(parsing: format.message(for: event, context: Self.createdContext).body)
        guard case .object(let data)? = body["Data"] else {
            Issue.record("Data is not an object")
            return
        }
        #expect(data.map(\.0) == ["Path", "Size", "FoundByScan"])
        #expect(data.last?.1 == .bool(true))
        // A live event keeps the documented shape: no FoundByScan key at all.
        event.foundByScan = false
        let live = try JSONValue(parsing: format.message(for: event, context: Self.createdContext).body)
        guard case .object(let liveData)? = live["Data"] else {
            Issue.record("Data is not an object")
            return
        }
        #expect(liveData.map(\.0) == ["Path", "Size"])
    }

    @Test func failedUploadsGoInTheSameEnvelopeToWebhooksThatAsk() throws {
        var event = Self.createdEvent
        #expect(format.carries(event))
        event.kind = .deleted
        #expect(format.carries(event))
        event.kind = .failed
        event.size = 522_240
        // Carried, but no default topic includes it: only a webhook that subscribes gets it.
        #expect(format.carries(event))
        let body = try JSONValue(parsing: format.message(for: event, context: Self.createdContext).body)
        #expect(body["Topic"] == .string("file.failed"))
        #expect(body["Data"]?["Size"] == .int(522_240))
        #expect(body["Metadata"]?["Event"]?["Topic"] == .string("file.failed"))
        event.isDirectory = true
        #expect(!format.carries(event))
    }

    @Test func signatureHeaderIsBase64HMACOfTheBody() throws {
        let message = format.message(for: Self.createdEvent, context: Self.createdContext)
        #expect(message.body == Array(Self.seedCreated.utf8))
        #expect(message.headers == [HTTPHeader("Content-Type", "application/json")])
        #expect(format.defaultSignature == .hub)
        let headers = try RequestSigner(scheme: format.defaultSignature, secrets: [Array("sftptogo-test-secret".utf8)])
            .headers(body: message.body, messageID: Self.createdEvent.id, timestampSeconds: 0)
        // Computed independently with Python's hmac module over the seed body above.
        #expect(headers == [HTTPHeader("X-Hub-Signature", "8aU5P0rWyt6tZIySTKWOqhm8VfLcNxgrYYsmzvQqoOw=")])
    }

    @Test func pingFollowsTheSeedEnvelope() {
        let context = DeliveryContext(
            webhookID: "6b1c6f0c-52c1-47a6-9344-57a4579ced68",
            deliveryID: "c7ce90e6-5708-43b1-a052-13991f45c771",
            attemptID: "2e241efe-d22f-4fe7-aab9-adcde63fca6d",
            organizationID: "d57060b1-23fe-2d59-afd0-7f56d9e1fc55",
            pipeID: "pip_1"
        )
        let endpoint = EndpointDescription(
            name: "Test Webhook", url: "https://webhook.site/394f2074-e56f-4110-7bf7-ca14a1f48b7c",
            topics: [.fileDeleted], paused: false, nowMillis: 1_590_911_947_688,
            eventID: "2e579289-4c4a-4085-9b43-74020865cdda"
        )
        let expected =
            #"{"Id":"2e579289-4c4a-4085-9b43-74020865cdda","Topic":"webhook.ping","CreatedAt":1590911947688,"UpdatedAt":1590911947688,"Actor":{"Type":"User","Id":"drophook"},"Resource":"webhook","PreviousData":null,"Data":{"Topics":["file.deleted"],"State":"enabled","Alias":"Test Webhook","CreatedAt":1590911947688,"Id":"6b1c6f0c-52c1-47a6-9344-57a4579ced68","OrganizationId":"d57060b1-23fe-2d59-afd0-7f56d9e1fc55","UpdatedAt":1590911947688,"Url":"https://webhook.site/394f2074-e56f-4110-7bf7-ca14a1f48b7c"},"Metadata":{"Webhook":{"Id":"6b1c6f0c-52c1-47a6-9344-57a4579ced68"},"Delivery":{"Id":"c7ce90e6-5708-43b1-a052-13991f45c771"},"Attempt":{"Id":"2e241efe-d22f-4fe7-aab9-adcde63fca6d"},"Event":{"Id":"2e579289-4c4a-4085-9b43-74020865cdda","Topic":"webhook.ping"}}}"#
        #expect(String(decoding: format.ping(context: context, endpoint: endpoint).body, as: UTF8.self) == expected)

        var paused = endpoint
        paused.paused = true
        var noOrganization = context
        noOrganization.organizationID = nil
        let pausedBody = String(decoding: format.ping(context: noOrganization, endpoint: paused).body, as: UTF8.self)
        #expect(pausedBody.contains(#""State":"paused""#))
        #expect(!pausedBody.contains("OrganizationId"))
    }
}
