import DrophookNATS
import Testing

@Suite("Subject templates")
struct SubjectTemplateTests {
    @Test func placeholdersAreFilledAsSingleTokens() throws {
        let template = try SubjectTemplate("sftp.{host}.{watch}.{topic}")
        #expect(template.subject(host: "sftp-1", watch: "uploads", topic: "file.created") == "sftp.sftp-1.uploads.file.created")
        // A dotted host name, a watch with a space and a wildcard: one token each, never a wildcard.
        #expect(
            template.subject(host: "sftp-1.example.com", watch: "in box>*", topic: "file.deleted")
                == "sftp.sftp-1_example_com.in_box__.file.deleted")
        #expect(template.subject(host: "", watch: "w", topic: "file.created") == "sftp._.w.file.created")
        #expect(try SubjectTemplate("files").subject(host: "h", watch: "w", topic: "t") == "files")
    }

    @Test(arguments: [
        ("sftp.{host}.{user}", "names {user}; use {host}, {watch} and {topic}"),
        ("sftp..{topic}", "has an empty token"),
        (".{topic}", "has an empty token"),
        ("sftp.{topic}.", "has an empty token"),
        ("sftp.*.{topic}", "holds a space, '*', '>'"),
        ("sftp.{topic", "has a '{' without its '}'"),
        ("", "the subject is empty"),
    ])
    func badTemplatesAreRefusedWithTheReason(text: String, reason: String) {
        #expect {
            _ = try SubjectTemplate(text)
        } throws: { error in
            (error as? SubjectTemplate.Problem)?.description.contains(reason) == true
        }
    }
}
