namespace CommerceMM.Data.Scale;

/// <summary>
/// One decoded five-modality product. A modality the product lacks (or the consumer does not use) is
/// null; <see cref="Text"/> and <see cref="Table"/> already hold [CLS] … [SEP].
/// </summary>
internal sealed record ProductRow(
    string Key,
    int Category,
    float[]? Image,
    int[]? Text,
    (int Id, long Entity)[]? Table,
    float[]? Video,
    float[]? Audio,
    int AudioFrames);
