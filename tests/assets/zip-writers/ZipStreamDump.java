// Lists the files a streaming reader sees: java.util.zip.ZipInputStream walks the
// local headers from the start of the archive (not its central directory).
// Prints "<archive>\t<name>\t<sha256 of the data>" per file, in stream order, and
// "<archive>\t!\t<message>" where the reader gives up.
import java.io.FileInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

public class ZipStreamDump {
    public static void main(String[] args) throws Exception {
        for (String archive : args) {
            try (ZipInputStream in = new ZipInputStream(new FileInputStream(archive))) {
                ZipEntry e;
                while ((e = in.getNextEntry()) != null) {
                    byte[] data = in.readAllBytes();
                    if (e.isDirectory()) continue;
                    String digest = HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(data));
                    System.out.println(archive + "\t" + e.getName() + "\t" + digest);
                }
            } catch (ZipException e) {
                System.out.println(archive + "\t!\t" + e.getMessage());
            }
        }
    }
}
