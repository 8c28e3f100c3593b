import Foundation
import Shared
import Testing

@Suite struct SHA256Tests {
    @Test func nistVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShotAcrossBlockBoundaries() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let whole = data.withUnsafeBytes { SHA256.hex($0) }
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 999] {
            var h = SHA256()
            h.update(Array(data[..<split]))
            h.update(Array(data[split...]))
            #expect(h.hexDigest() == whole, "split at \(split)")
        }
    }

    @Test func fileDigestMatchesSha256sum() throws {
        // sha256sum of the committed safetensors test file.
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/safetensors/python-written.safetensors").path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var h = SHA256()
        h.update(data)
        #expect(h.hexDigest() == "8c5704d7b6198a56610efdbf456e3d8a7a0f92ef5e03991e0ae678aa617dae77")
    }
}
