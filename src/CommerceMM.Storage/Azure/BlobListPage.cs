using System.Globalization;
using System.Xml.Linq;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Azure;

/// <summary>One page of a List Blobs response: the blobs, and the marker for the next page (empty on the last).</summary>
internal sealed record BlobListPage(IReadOnlyList<BlobProperties> Blobs, string? NextMarker)
{
    public static BlobListPage Parse(Stream xml)
    {
        XElement root = XDocument.Load(xml).Root ?? throw new BlobStoreException("Azure Blob Storage sent an empty List Blobs response.");
        var blobs = new List<BlobProperties>();
        foreach (XElement blob in root.Element("Blobs")?.Elements("Blob") ?? [])
        {
            XElement properties = blob.Element("Properties") ?? throw new BlobStoreException("List Blobs entry without <Properties>.");
            string name = (string?)blob.Element("Name") ?? throw new BlobStoreException("List Blobs entry without <Name>.");
            blobs.Add(new BlobProperties(
                name,
                long.Parse((string?)properties.Element("Content-Length") ?? "0", NumberStyles.None, CultureInfo.InvariantCulture),
                AzureBlobStore.NormalizeETag((string?)properties.Element("Etag") ?? ""),
                DateTimeOffset.ParseExact((string?)properties.Element("Last-Modified") ?? "", "r", CultureInfo.InvariantCulture)));
        }

        return new BlobListPage(blobs, (string?)root.Element("NextMarker"));
    }
}
