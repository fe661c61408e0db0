import Foundation

extension AgentPreflight {
    static func watchFindings(_ configuration: AgentConfiguration) -> [Finding] {
        configuration.watches.compactMap { watch in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: watch.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                return Finding(severity: .error, subject: watch.path, message: "watch '\(watch.name)': not a directory; create it or fix path")
            }
            return nil
        }
    }
}
