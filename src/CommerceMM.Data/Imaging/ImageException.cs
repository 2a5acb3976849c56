namespace CommerceMM.Data.Imaging;

/// <summary>An image could not be read or written: not a format we read, truncated, corrupt or too large.</summary>
public class ImageException(string message) : Exception(message);
